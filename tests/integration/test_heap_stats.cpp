// dhat::HeapStats and dhat::AdHocStats: exact values at any moment of a run, nothing recorded by
// reading them, zeros outside a run.
#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#include "profiled_run.hpp"

using dhat_test::keep;

namespace {

extern "C" __attribute__((noinline)) void* stats_site(std::size_t n) { return std::malloc(n); }

void expect_stats(const dhat::HeapStats& s, std::uint64_t total_blocks, std::uint64_t total_bytes,
                  std::uint64_t curr_blocks, std::uint64_t curr_bytes, std::uint64_t max_blocks,
                  std::uint64_t max_bytes) {
  EXPECT_EQ(s.total_blocks, total_blocks);
  EXPECT_EQ(s.total_bytes, total_bytes);
  EXPECT_EQ(s.curr_blocks, curr_blocks);
  EXPECT_EQ(s.curr_bytes, curr_bytes);
  EXPECT_EQ(s.max_blocks, max_blocks);
  EXPECT_EQ(s.max_bytes, max_bytes);
}

TEST(HeapStats, ExactAtEveryStep) {
  dhat::HeapStats s0, s1, s2, s3, s4, s5;
  {
    dhat::Profiler profiler = dhat::Profiler::builder().file_name(dhat_test::file_for_current_test()).build();
    s0 = dhat::HeapStats::get();
    void* a = stats_site(100);
    s1 = dhat::HeapStats::get();
    void* b = stats_site(50);
    s2 = dhat::HeapStats::get();
    std::free(a);
    s3 = dhat::HeapStats::get();
    b = std::realloc(b, 200);  // a new block in the totals; live bytes 50 -> 200, a new peak
    keep(b);
    s4 = dhat::HeapStats::get();
    s5 = dhat::HeapStats::get();  // reading records nothing
    std::free(b);
  }
  expect_stats(s0, 0, 0, 0, 0, 0, 0);
  expect_stats(s1, 1, 100, 1, 100, 1, 100);
  expect_stats(s2, 2, 150, 2, 150, 2, 150);
  expect_stats(s3, 2, 150, 1, 50, 2, 150);
  expect_stats(s4, 3, 350, 1, 200, 1, 200);
  expect_stats(s5, 3, 350, 1, 200, 1, 200);
  expect_stats(dhat::HeapStats::get(), 0, 0, 0, 0, 0, 0);  // no run
  EXPECT_EQ(dhat::AdHocStats::get().total_events, 0U);
}

// Once the live table outgrows the cache, a single-threaded program's events are applied a few
// events late (recorder.cpp): every reading, and the peak, must still see them all, in order.
TEST(HeapStats, ExactAtEveryStepWithAHeapOfManyBlocks) {
  constexpr std::uint64_t kHeld = 150000;  // a table of well over 2 MiB
  std::vector<void*> held;
  held.reserve(kHeld);
  dhat::HeapStats s0, s1, s2, s3, s4, s5;
  {
    dhat::Profiler profiler = dhat::Profiler::builder().file_name(dhat_test::file_for_current_test()).build();
    for (std::uint64_t i = 0; i < kHeld; ++i) {
      held.push_back(stats_site(16));
    }
    s0 = dhat::HeapStats::get();
    void* a = stats_site(100);
    s1 = dhat::HeapStats::get();
    void* b = stats_site(50);
    s2 = dhat::HeapStats::get();
    std::free(a);
    s3 = dhat::HeapStats::get();
    // Each held block is freed just before one of equal size is allocated: applied in that
    // order, the live bytes never rise above the peak of s2.
    for (void*& block : held) {
      std::free(block);
      block = stats_site(16);
    }
    s4 = dhat::HeapStats::get();
    b = std::realloc(b, 200);
    keep(b);
    s5 = dhat::HeapStats::get();
    for (void* block : held) {
      std::free(block);
    }
    std::free(b);
  }
  const std::uint64_t n = kHeld;
  expect_stats(s0, n, 16 * n, n, 16 * n, n, 16 * n);
  expect_stats(s1, n + 1, 16 * n + 100, n + 1, 16 * n + 100, n + 1, 16 * n + 100);
  expect_stats(s2, n + 2, 16 * n + 150, n + 2, 16 * n + 150, n + 2, 16 * n + 150);
  expect_stats(s3, n + 2, 16 * n + 150, n + 1, 16 * n + 50, n + 2, 16 * n + 150);
  expect_stats(s4, 2 * n + 2, 32 * n + 150, n + 1, 16 * n + 50, n + 2, 16 * n + 150);
  expect_stats(s5, 2 * n + 3, 32 * n + 350, n + 1, 16 * n + 200, n + 1, 16 * n + 200);  // a new peak
}

}  // namespace
