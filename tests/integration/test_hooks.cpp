// Every malloc-family function and every replaceable operator new/delete form is recorded,
// exactly once, with the requested size, at the right program point.
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <new>
#include <vector>

#include "profiled_run.hpp"

using dhat_test::keep;
using dhat_test::profile_of;

extern "C" void* c_site_malloc(size_t bytes);
extern "C" char* c_site_strdup(const char* text);

namespace {

struct alignas(64) Aligned64 {
  char bytes[64];
};

#define SITE extern "C" __attribute__((noinline))
SITE void* site_malloc() { return std::malloc(100); }
SITE void* site_calloc() { return std::calloc(10, 20); }
SITE void* site_realloc_null() { return std::realloc(nullptr, 50); }
SITE void* site_reallocarray_null() { return reallocarray(nullptr, 4, 25); }
SITE void* site_posix_memalign() {
  void* block = nullptr;
  return posix_memalign(&block, 64, 300) == 0 ? block : nullptr;
}
SITE void* site_aligned_alloc() { return aligned_alloc(128, 256); }
SITE void* site_memalign() { return memalign(32, 96); }
SITE void* site_valloc() { return valloc(1000); }
SITE void* site_pvalloc() { return pvalloc(1000); }
SITE int* site_new() { return new int(1); }
SITE int* site_new_array() { return new int[10]; }
SITE char* site_new_nothrow() { return new (std::nothrow) char[7]; }
SITE double* site_new_nothrow_single() { return new (std::nothrow) double(2.0); }
SITE Aligned64* site_new_aligned() { return new Aligned64(); }
SITE Aligned64* site_new_aligned_array() { return new Aligned64[3]; }
SITE void* site_new_aligned_nothrow() { return ::operator new (80, std::align_val_t{128}, std::nothrow); }
SITE void* site_new_aligned_array_nothrow() { return ::operator new[](90, std::align_val_t{256}, std::nothrow); }
SITE void* site_operator_new() { return ::operator new(33); }
SITE void* site_operator_new_array() { return ::operator new[](44); }
#undef SITE

struct Expectation {
  const char* site;
  std::uint64_t bytes;
};

const Expectation kSites[] = {
    {"site_malloc", 100},
    {"site_calloc", 200},
    {"site_realloc_null", 50},
    {"site_reallocarray_null", 100},
    {"site_posix_memalign", 300},
    {"site_aligned_alloc", 256},
    {"site_memalign", 96},
    {"site_valloc", 1000},
    {"site_pvalloc", 1000},
    {"site_new", 4},
    {"site_new_array", 40},
    {"site_new_nothrow", 7},
    {"site_new_nothrow_single", 8},
    {"site_new_aligned", 64},
    {"site_new_aligned_array", 192},
    {"site_new_aligned_nothrow", 80},
    {"site_new_aligned_array_nothrow", 90},
    {"site_operator_new", 33},
    {"site_operator_new_array", 44},
    {"c_site_malloc", 33},
};

TEST(Hooks, EveryAllocationFunctionIsRecordedOnceWithItsSize) {
  auto profile = profile_of([] {
    // Every block is freed with the matching function, so each site ends with eb == 0.
    std::free(site_malloc());
    std::free(site_calloc());
    std::free(site_realloc_null());
    std::free(site_reallocarray_null());
    std::free(site_posix_memalign());
    std::free(site_aligned_alloc());
    std::free(site_memalign());
    std::free(site_valloc());
    std::free(site_pvalloc());
    delete site_new();
    delete[] site_new_array();
    delete[] site_new_nothrow();
    delete site_new_nothrow_single();
    delete site_new_aligned();
    delete[] site_new_aligned_array();
    ::operator delete (site_new_aligned_nothrow(), std::align_val_t{128}, std::nothrow);
    ::operator delete[](site_new_aligned_array_nothrow(), std::align_val_t{256}, std::nothrow);
    ::operator delete(site_operator_new(), 33);          // sized
    ::operator delete[](site_operator_new_array(), 44);  // sized array
    std::free(c_site_malloc(33));
    std::free(c_site_strdup("hello"));
  });
  for (const Expectation& e : kSites) {
    SCOPED_TRACE(e.site);
    const auto n = profile.at(e.site);
    EXPECT_EQ(n.count, 1U);
    EXPECT_EQ(n.tb, e.bytes);
    EXPECT_EQ(n.tbk, 1U);
    EXPECT_EQ(n.mb, e.bytes);
    EXPECT_EQ(n.mbk, 1U);
    EXPECT_EQ(n.eb, 0U);
    EXPECT_EQ(n.ebk, 0U);
  }
  // strdup allocates inside glibc: its frame comes first, then the C caller.
  const auto strdup_pps = profile.passing_through("c_site_strdup");
  ASSERT_EQ(strdup_pps.size(), 1U);
  // "strdup" from the dynamic symbols, or "__strdup" where glibc's debug info is installed.
  const std::string first = dhat_test::Profile::function_of(profile.frame(strdup_pps[0], 0));
  EXPECT_TRUE(first == "strdup" || first == "__strdup") << first;
  EXPECT_EQ(strdup_pps[0]["tb"].get<std::uint64_t>(), 6U);
  EXPECT_EQ(strdup_pps[0]["tbk"].get<std::uint64_t>(), 1U);
}

TEST(Hooks, RemainingDeleteFormsFreeTheirBlocks) {
  auto profile = profile_of([] {
    void* a = site_operator_new();
    ::operator delete(a, std::nothrow);
    void* b = site_operator_new_array();
    ::operator delete[](b, std::nothrow);
    Aligned64* c = site_new_aligned();
    ::operator delete (c, sizeof(Aligned64), std::align_val_t{64});
    Aligned64* d = site_new_aligned_array();
    ::operator delete[](d, 3 * sizeof(Aligned64), std::align_val_t{64});
    Aligned64* e = site_new_aligned();
    ::operator delete (e, std::align_val_t{64});
    Aligned64* f = site_new_aligned_array();
    ::operator delete[](f, std::align_val_t{64});
  });
  EXPECT_EQ(profile.at("site_operator_new").eb, 0U);
  EXPECT_EQ(profile.at("site_operator_new_array").eb, 0U);
  const auto aligned = profile.at("site_new_aligned");
  EXPECT_EQ(aligned.tbk, 2U);
  EXPECT_EQ(aligned.tb, 128U);
  EXPECT_EQ(aligned.eb, 0U);
  const auto aligned_array = profile.at("site_new_aligned_array");
  EXPECT_EQ(aligned_array.tbk, 2U);
  EXPECT_EQ(aligned_array.eb, 0U);
}

TEST(Hooks, ZeroByteRequestsAreRecordedAsZeroBytes) {
  auto profile = profile_of([] {
    void* m = site_malloc();
    keep(m);
    std::free(m);
    void* zero = std::malloc(0);  // a unique block; recorded as the 0 bytes asked for
    keep(zero);
    std::free(zero);
    void* new_zero = ::operator new(0);
    keep(new_zero);
    ::operator delete(new_zero);
  });
  const auto zero_sites = profile.passing_through("ZeroByteRequests");
  std::uint64_t blocks = 0, bytes = 0;
  for (const auto& pp : zero_sites) {
    blocks += pp["tbk"].get<std::uint64_t>();
    bytes += pp["tb"].get<std::uint64_t>();
  }
  EXPECT_EQ(blocks, 3U);  // site_malloc's 100 bytes, malloc(0), operator new(0)
  EXPECT_EQ(bytes, 100U);
}

TEST(Hooks, MallocUsableSizeWorksOnRecordedBlocks) {
  void* block = nullptr;
  std::size_t usable = 0;
  auto profile = profile_of([&] {
    block = site_malloc();
    usable = malloc_usable_size(block);
  });
  EXPECT_GE(usable, 100U);
  EXPECT_EQ(profile.at("site_malloc").ebk, 1U);  // still live at t-end
  std::free(block);                              // after the run: passes through
}

TEST(Hooks, FailedAllocationsAreNotRecorded) {
  auto profile = profile_of([] {
    void* huge = std::malloc(static_cast<std::size_t>(-1) / 2);
    EXPECT_EQ(huge, nullptr);
    volatile std::size_t count = static_cast<std::size_t>(1) << 40;  // volatile: no compile-time warning
    void* overflow = std::calloc(count, count);
    EXPECT_EQ(overflow, nullptr);
    void* bad_alignment = nullptr;
    EXPECT_EQ(posix_memalign(&bad_alignment, 3, 16), EINVAL);
    bool threw = false;
    try {
      keep(::operator new(static_cast<std::size_t>(-1) / 2));
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    EXPECT_TRUE(threw);
    EXPECT_EQ(::operator new(static_cast<std::size_t>(-1) / 2, std::nothrow), nullptr);
  });
  // Only the bad_alloc exception object itself may appear; no refused request is recorded.
  for (const auto& pp : profile.passing_through("FailedAllocations")) {
    EXPECT_LT(pp["tb"].get<std::uint64_t>(), 1024U);
  }
}

TEST(Hooks, BlocksFromBeforeTheRunAreIgnoredWhenFreed) {
  void* before = site_malloc();  // not recorded: no run yet
  void* during = nullptr;
  auto profile = profile_of([&] {
    std::free(before);       // unknown block: ignored, no negative counts
    during = site_calloc();  // recorded, still live at the end
  });
  std::free(during);  // after the run: passes through
  const auto malloc_site = profile.at("site_malloc");
  EXPECT_EQ(malloc_site.count, 0U);
  const auto calloc_site = profile.at("site_calloc");
  EXPECT_EQ(calloc_site.tb, 200U);
  EXPECT_EQ(calloc_site.eb, 200U);
}

// The report is written from an arena of its own (api/run_control.cpp): in the program's, its
// first large request would make glibc merge every small block the program freed into its fast
// bins, a pass over the whole heap at exit that the program without the profiler never pays.
TEST(Hooks, WritingTheReportLeavesTheProgramsFastBinsAlone) {
  constexpr std::size_t kBlocks = 100000;
  std::vector<void*> blocks(kBlocks);
  const std::string path = dhat_test::file_for_current_test();
  std::size_t fast_bytes_before = 0;
  {
    dhat::Profiler profiler = dhat::Profiler::builder().file_name(path).build();
    for (void*& block : blocks) {
      block = site_malloc();
    }
    for (void* block : blocks) {
      std::free(block);  // past tcache's few per size: into the fast bins
    }
    fast_bytes_before = mallinfo2().fsmblks;
  }
  const std::size_t fast_bytes_after = mallinfo2().fsmblks;  // before anything reads the file
  const auto profile = dhat_test::Profile::load(path);
  const auto pps = profile.allocated_in("site_malloc");
  ASSERT_EQ(pps.size(), 1U);
  EXPECT_EQ(pps[0]["tbk"].get<std::uint64_t>(), kBlocks);
  ASSERT_GE(fast_bytes_before, kBlocks * 100);
  EXPECT_GE(fast_bytes_after, fast_bytes_before) << "the report consolidated the program's fast bins";
}

extern "C" __attribute__((noinline)) void* deep_site(int depth) {
  if (depth == 0) {
    return std::malloc(4096);  // past tcache's sizes: a freed block is free in mallinfo's eyes
  }
  void* block = deep_site(depth - 1);
  dhat_test::keep(block);
  return block;
}

// The profiler's tables grow from its own pages, never from the program's heap: with the
// program's blocks all freed, glibc holds no more than before the profiler made 60 program points
// (its small tables came from glibc's malloc: a signal handler that allocates could interrupt
// the profiler inside it, and the program's heap was not the program's alone).
TEST(Hooks, TheProfilersTablesTakeNothingFromTheProgramsHeap) {
  std::size_t before = 0;
  std::size_t after = 0;
  const auto profile = dhat_test::profile_of(
      [&] {
        before = mallinfo2().uordblks;
        for (int round = 0; round < 50; ++round) {
          for (int depth = 0; depth < 60; ++depth) {
            std::free(deep_site(depth));
          }
        }
        after = mallinfo2().uordblks;
      },
      64);
  EXPECT_EQ(after, before) << "bytes of glibc's heap in use grew while the profiler recorded";
  std::uint64_t blocks = 0;
  for (const auto& pp : profile.allocated_in("deep_site")) {
    blocks += pp["tbk"].get<std::uint64_t>();
  }
  EXPECT_EQ(blocks, 50U * 60U);
  EXPECT_GE(profile.allocated_in("deep_site").size(), 60U);
}

}  // namespace
