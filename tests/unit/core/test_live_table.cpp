// The live-block table against a std::unordered_map reference: random use, packed and page-aligned
// blocks, growth in place (crowded homes, wrap-around), the no-reservation fallback, refusals.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <unordered_map>
#include <vector>

#include "core/live_table.hpp"

using namespace dhat::core;

namespace {

TEST(LiveTable, RandomInsertRemoveMatchesReference) {
  LiveTable table;
  std::unordered_map<std::uintptr_t, std::uint64_t> reference;
  std::mt19937_64 random(7);
  for (int step = 0; step < 200000; ++step) {
    // Addresses clustered like a real heap: 16-byte aligned in a few regions.
    const std::uintptr_t address = 0x10000 + (random() % 50000) * 16 + (random() % 2) * 0x7f0000000000ULL;
    // (An address is inserted again only after its remove, as malloc hands it out.)
    if (random() % 2 == 0 && reference.count(address) == 0) {
      ASSERT_TRUE(table.insert(address, LiveBlock{address & 0xffff, 1}));
      reference[address] = address & 0xffff;
    } else {
      LiveBlock removed{};
      const bool found = table.remove(address, &removed);
      ASSERT_EQ(found, reference.erase(address) == 1);
      if (found) {
        ASSERT_EQ(removed.size, address & 0xffff);
      }
    }
    ASSERT_EQ(table.size(), reference.size());
  }
  for (const auto& [address, size] : reference) {
    LiveBlock removed{};
    ASSERT_TRUE(table.remove(address, &removed));
    ASSERT_EQ(removed.size, size);
  }
  EXPECT_EQ(table.size(), 0U);
}

// Inserts `addresses` (block i has size i + 1 and program point i % 1000), then removes them in a
// shuffled order, checking each block's size and program point and that nothing is found twice.
void insert_then_remove_all(LiveTable& table, const std::vector<std::uintptr_t>& addresses) {
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    ASSERT_TRUE(table.insert(addresses[i], LiveBlock{i + 1, static_cast<PpId>(i % 1000)}));
  }
  ASSERT_EQ(table.size(), addresses.size());
  std::vector<std::size_t> order(addresses.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
  }
  std::shuffle(order.begin(), order.end(), std::mt19937_64(5));
  for (std::size_t i : order) {
    LiveBlock removed{};
    ASSERT_TRUE(table.remove(addresses[i], &removed)) << "block " << i;
    ASSERT_EQ(removed.size, i + 1);
    ASSERT_EQ(removed.pp, static_cast<PpId>(i % 1000));
    LiveBlock again{};
    ASSERT_FALSE(table.remove(addresses[i], &again));
  }
  EXPECT_EQ(table.size(), 0U);
}

// Neighbouring blocks share a line of the table (live_table.hpp): packed 32-byte blocks fill
// whole lines and page-aligned ones share a rotation-picked slot per region. Enough of both to
// grow the table onto huge pages, then removed in an order unrelated to their homes.
TEST(LiveTable, PackedAndPageAlignedBlocksSurviveGrowthAndShuffledRemoval) {
  LiveTable table;
  std::vector<std::uintptr_t> addresses;
  for (std::uintptr_t i = 0; i < 150000; ++i) {
    addresses.push_back(0x5000000 + i * 32);              // packed, as glibc hands out 24-byte blocks
    addresses.push_back(0x7f0000000000 + i * 4096 + 16);  // one block per page, as mmap'd ones
  }
  insert_then_remove_all(table, addresses);
  EXPECT_TRUE(table.grows_in_place());  // 9.6 MB of slots: a reservation
}

// Growth moves blocks within the same slots (live_table.cpp). The hardest case for that: homes
// crowded into the table's last lines, so that probe runs wrap around to slot 0 and blocks
// not yet moved sit where others want to go, at every size the table passes through. These
// heap regions hash into the last 1/2000 of the table whatever its size.
TEST(LiveTable, BlocksCrowdedAtTheTableEndSurviveGrowth) {
  std::vector<std::uintptr_t> addresses;
  for (std::uintptr_t region = 1; addresses.size() < 12000; ++region) {
    if ((region * 0x9E3779B97F4A7C15ULL) > ~std::uint64_t{0} - (~std::uint64_t{0} / 2000)) {
      for (std::uintptr_t block = 0; block < 4; ++block) {
        addresses.push_back((region << 7) + block * 32);
      }
    }
  }
  // Interleaved with ordinary blocks so that the table grows several times with both inside.
  for (std::uintptr_t i = 0; i < 12000; ++i) {
    addresses.push_back(0x7f0000000000 + i * 48);
  }
  std::shuffle(addresses.begin(), addresses.end(), std::mt19937_64(3));
  LiveTable table;
  insert_then_remove_all(table, addresses);
}

// Without address space to reserve (a ulimit -v), a big table is a plain mapping, and growing
// past it copies: the same blocks come back.
TEST(LiveTable, GrowsWithoutAReservationWhenAddressSpaceIsShort) {
  if (std::getenv("DHAT_TEST_EMULATED") != nullptr) {
    GTEST_SKIP() << "under qemu-user, the address-space limit is the emulator's, not the program's";
  }
  EXPECT_EXIT(
      {
        std::vector<std::uintptr_t> addresses;
        for (std::uintptr_t i = 0; i < 200000; ++i) {
          addresses.push_back(0x5000000 + i * 32);
          addresses.push_back(0x7f0000000000 + i * 4096 + 16);
        }
        // Room for 4 GiB more (the test's memory and tables of this size; sanitizers' shadow
        // is already mapped), not for a 64 GiB reservation.
        long pages = 0;
        if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
          if (std::fscanf(statm, "%ld", &pages) != 1) {
            pages = 0;
          }
          std::fclose(statm);
        }
        rlimit limit{};
        getrlimit(RLIMIT_AS, &limit);
        limit.rlim_cur = static_cast<rlim_t>(pages) * static_cast<rlim_t>(sysconf(_SC_PAGESIZE)) + (rlim_t{4} << 30);
        setrlimit(RLIMIT_AS, &limit);
        LiveTable table;
        std::size_t refused = 0;
        for (std::size_t i = 0; i < addresses.size(); ++i) {
          refused += table.insert(addresses[i], LiveBlock{i + 1, 1}) ? 0 : 1;
        }
        const bool reserved = table.grows_in_place();
        table.clear();
        insert_then_remove_all(table, addresses);
        std::exit(::testing::Test::HasFailure() || reserved || refused != 0 || pages == 0 ? 1 : 0);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(LiveTable, OddAddressesAreRefused) {
  LiveTable table;
  EXPECT_FALSE(table.insert(0x1001, LiveBlock{16, 1}));
  EXPECT_TRUE(table.insert(0x1000, LiveBlock{16, 1}));
  LiveBlock back{};
  EXPECT_FALSE(table.remove(0x1001, &back));
  EXPECT_TRUE(table.remove(0x1000, &back));
  EXPECT_EQ(table.size(), 0U);
}

TEST(LiveTable, BlocksThatDoNotFitASlotAreRefused) {
  LiveTable table;
  EXPECT_FALSE(table.insert(0x1000, LiveBlock{16, 1U << 24}));   // 16M+ program points
  EXPECT_FALSE(table.insert(0x1000, LiveBlock{1ULL << 40, 1}));  // a 1 TiB block
  EXPECT_TRUE(table.insert(0x1000, LiveBlock{(1ULL << 40) - 1, (1U << 24) - 1}));
  LiveBlock back{};
  ASSERT_TRUE(table.remove(0x1000, &back));
  EXPECT_EQ(back.size, (1ULL << 40) - 1);
  EXPECT_EQ(back.pp, (1U << 24) - 1);
}

}  // namespace
