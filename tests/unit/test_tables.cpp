// The live-block table and the stack table against std::unordered_map references.
#include <gtest/gtest.h>

#include <random>
#include <unordered_map>
#include <vector>

#include "core/live_table.hpp"
#include "core/stack_capture.hpp"
#include "core/stack_table.hpp"

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

TEST(StackTable, EqualStacksShareAProgramPoint) {
  StackTable table;
  std::vector<std::vector<std::uintptr_t>> stacks;
  for (std::uintptr_t i = 0; i < 5000; ++i) {
    stacks.push_back({0x400000 + i, 0x500000 + i % 13, 0x600000});
  }
  stacks.push_back({0x400000});  // a prefix of another stack is a different stack
  std::vector<PpId> ids;
  for (const auto& s : stacks) {
    const auto depth = static_cast<std::uint32_t>(s.size());
    ids.push_back(table.intern(s.data(), depth, hash_stack(s.data(), depth)));
  }
  EXPECT_EQ(table.size(), stacks.size());
  for (std::size_t i = 0; i < stacks.size(); ++i) {
    const auto depth = static_cast<std::uint32_t>(stacks[i].size());
    ASSERT_EQ(table.intern(stacks[i].data(), depth, hash_stack(stacks[i].data(), depth)), ids[i]);
    ASSERT_EQ(table.depth(ids[i]), depth);
    ASSERT_EQ(std::vector<std::uintptr_t>(table.frames(ids[i]), table.frames(ids[i]) + depth), stacks[i]);
  }
  EXPECT_EQ(table.size(), stacks.size());
}

__attribute__((noinline)) void capture_here(RawStack* out, std::size_t frames) { capture_stack(*out, frames); }

TEST(StackCapture, CapturesTheCallersAndRespectsTheLimit) {
  RawStack deep;
  capture_here(&deep, 64);
  EXPECT_GE(deep.depth, 3U);
  RawStack shallow;
  capture_here(&shallow, 2);
  EXPECT_EQ(shallow.depth, 2U);
  RawStack none;
  capture_here(&none, 0);
  EXPECT_EQ(none.depth, 0U);
}

}  // namespace
