// "Warm up once, then N iterations allocate nothing (or at most K blocks / B bytes)", with the
// allocating call sites named on failure; with and without a running profiler.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <dhat/gtest.hpp>

#include "../../examples/frame_processor.hpp"
#include "profiled_run.hpp"

using dhat_test::keep;

namespace {

extern "C" __attribute__((noinline)) void two_blocks_per_call() {
  void* a = std::malloc(24);
  void* b = std::malloc(40);
  keep(a);
  keep(b);
  std::free(a);
  std::free(b);
}

TEST(AllocationChecks, ReusedBuffersAllocateNothing) {
  const Frame frame = make_test_frame(64, 48);
  FrameProcessor processor;
  DHAT_EXPECT_NO_ALLOCATIONS(keep(reinterpret_cast<void*>(processor.process(frame))));
}

TEST(AllocationChecks, FreshBuffersFailWithTheAllocatingSite) {
  const Frame frame = make_test_frame(64, 48);
  NaiveFrameProcessor naive;
  const auto result = dhat::testing::allocates_nothing([&] { keep(reinterpret_cast<void*>(naive.process(frame))); });
  ASSERT_FALSE(result);
  const std::string message = result.message();
  // 48 rows pushed back one by one: the vector grows 7 times (1, 2, 4, ..., 64) per frame.
  EXPECT_NE(message.find("100 iterations after a warm-up allocated 700 blocks"), std::string::npos) << message;
  EXPECT_NE(message.find("allocating call sites:"), std::string::npos) << message;
  EXPECT_NE(message.find("NaiveFrameProcessor::process"), std::string::npos) << message;
}

TEST(AllocationChecks, ExactLimitsInBlocksAndBytes) {
  EXPECT_TRUE(dhat::testing::allocates_at_most(200, [] { two_blocks_per_call(); }));
  const auto over = dhat::testing::allocates_at_most(199, [] { two_blocks_per_call(); });
  EXPECT_FALSE(over);
  EXPECT_NE(std::string(over.message()).find("allocated 200 blocks (6,400 bytes)"), std::string::npos)
      << over.message();
  EXPECT_NE(std::string(over.message()).find("two_blocks_per_call"), std::string::npos) << over.message();
  EXPECT_TRUE(dhat::testing::allocates_at_most_bytes(6400, [] { two_blocks_per_call(); }));
  EXPECT_FALSE(dhat::testing::allocates_at_most_bytes(6399, [] { two_blocks_per_call(); }));
  const dhat::AllocationCheck ten =
      dhat::check_allocations([] { two_blocks_per_call(); }, dhat::AllocationLimits{20, UINT64_MAX, 10});
  EXPECT_TRUE(ten.ok);
  EXPECT_EQ(ten.blocks, 20U);
  EXPECT_EQ(ten.bytes, 640U);
}

TEST(AllocationChecks, InsideARunningProfilerTheProfileKeepsTheBlocks) {
  auto profile = dhat_test::profile_of([] {
    const dhat::AllocationCheck check = dhat::check_allocations([] { two_blocks_per_call(); });
    EXPECT_EQ(check.blocks, 200U);
  });
  const auto site = profile.at("two_blocks_per_call");
  EXPECT_EQ(site.tbk, 202U);  // the warm-up, then 100 iterations, two blocks each
  EXPECT_EQ(site.tb, 101U * 64U);
}

TEST(AllocationChecks, FatalFormStopsTheTest) {
  EXPECT_FATAL_FAILURE(DHAT_ASSERT_NO_ALLOCATIONS(two_blocks_per_call()), "two_blocks_per_call");
}

}  // namespace
