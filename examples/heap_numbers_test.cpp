// Heap numbers in GoogleTest: the README's example, built and run by ctest.
#include <gtest/gtest.h>

#include <dhat/gtest.hpp>
#include <map>
#include <string>

#include "frame_processor.hpp"

// Warm up once, then 100 more calls must not allocate. No Profiler is needed: the check runs a
// private, quiet one when none is running. On failure the message lists the allocating call
// sites, symbolized (function, file:line), with their block and byte counts.
TEST(FrameProcessor, HotPathAllocatesNothing) {
  const Frame frame = make_test_frame(640, 480);
  FrameProcessor processor;
  DHAT_EXPECT_NO_ALLOCATIONS(processor.process(frame));
}

// Looser limits: at most K blocks, or at most B bytes, over N iterations (101,600 bytes: 100
// frames of 1,016).
TEST(FrameProcessor, NaiveVersionAllocatesSevenBlocksPerFrame) {
  const Frame frame = make_test_frame(64, 48);  // 48 rows: the vector grows 7 times
  NaiveFrameProcessor naive;
  EXPECT_TRUE(dhat::testing::allocates_at_most(
      700, [&] { naive.process(frame); }, 100));
  EXPECT_TRUE(dhat::testing::allocates_at_most_bytes(101600, [&] { naive.process(frame); }));
}

// Exact heap numbers in testing mode: a failing check writes the profile first (open it in
// dh_view to see the failing state) and names the file in the failure message.
TEST(Registry, HoldsTenNodes) {
  dhat::Profiler profiler = dhat::Profiler::builder().testing().file_name("registry-test.json").build();
  std::map<int, int> registry;
  for (int i = 0; i < 10; ++i) {
    registry[i] = i * i;
  }
  const dhat::HeapStats stats = dhat::HeapStats::get();
  DHAT_EXPECT_EQ(stats.curr_blocks, 10U);  // one node per entry
  DHAT_EXPECT_TRUE(stats.max_bytes < 4096);
}

// The allocations and the own peak of one piece of code, for this thread and the process.
TEST(Report, PeakStaysSmallAndNothingIsLeftBehind) {
  dhat::Section section;
  {
    std::string report;
    for (int line = 0; line < 100; ++line) {
      report += "line " + std::to_string(line) + "\n";
    }
  }
  section.stop();
  EXPECT_LE(section.thread().peak_live_bytes, 4096U);
  EXPECT_EQ(section.process().live_bytes_change, 0);
}
