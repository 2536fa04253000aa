// dhat::HeapStats and dhat::AdHocStats: exact values at any moment of a run, nothing recorded by
// reading them, zeros outside a run.
#include <gtest/gtest.h>

#include <cstdlib>

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

}  // namespace
