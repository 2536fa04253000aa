// At -O2, inlined functions appear as their own frames (same address, innermost first), each
// with its own source line; frames below main are trimmed. This file is compiled with -O2 -g.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "profiled_run.hpp"

using dhat_test::keep;
using dhat_test::profile_of;

namespace {

int g_inner_line = 0;
int g_middle_line = 0;

__attribute__((always_inline)) inline void* inlined_inner(std::size_t n) {
  g_inner_line = __LINE__ + 1;
  return std::malloc(n);
}

__attribute__((always_inline)) inline void* inlined_middle(std::size_t n) {
  g_middle_line = __LINE__ + 1;
  return inlined_inner(n * 2);
}

extern "C" __attribute__((noinline)) void* outer_not_inlined(std::size_t n) { return inlined_middle(n); }

TEST(InlinedFrames, EachInlinedLevelIsItsOwnFrameWithItsLine) {
  auto profile = profile_of([] {
    void* block = outer_not_inlined(21);
    keep(block);
    std::free(block);
  });
  const auto pps = profile.allocated_in("inlined_inner");
  ASSERT_EQ(pps.size(), 1U);
  const auto& pp = pps[0];
  EXPECT_EQ(pp["tb"].get<std::uint64_t>(), 42U);
  ASSERT_GE(pp["fs"].size(), 3U);
  const std::string inner = profile.frame(pp, 0);
  const std::string middle = profile.frame(pp, 1);
  const std::string outer = profile.frame(pp, 2);
  const std::string file = "test_inlined_frames.cpp:";
  EXPECT_NE(inner.find("inlined_inner"), std::string::npos) << inner;
  EXPECT_NE(inner.find(file + std::to_string(g_inner_line) + ")"), std::string::npos) << inner;
  EXPECT_NE(middle.find("inlined_middle"), std::string::npos) << middle;
  EXPECT_NE(middle.find(file + std::to_string(g_middle_line) + ")"), std::string::npos) << middle;
  EXPECT_NE(outer.find("outer_not_inlined"), std::string::npos) << outer;
  // The three entries share one address: the call instruction of the malloc.
  EXPECT_EQ(inner.substr(0, inner.find(':')), middle.substr(0, middle.find(':')));
  EXPECT_EQ(inner.substr(0, inner.find(':')), outer.substr(0, outer.find(':')));
  EXPECT_EQ(inner.rfind("0x", 0), 0U);
  // Nothing below main.
  for (std::size_t i = 0; i < pp["fs"].size(); ++i) {
    const std::string frame = profile.frame(pp, i);
    EXPECT_EQ(frame.find("__libc_start"), std::string::npos) << frame;
    EXPECT_EQ(frame.find("_start "), std::string::npos) << frame;
  }
}

TEST(InlinedFrames, MaxFramesLimitsTheRawStack) {
  auto profile = profile_of(
      [] {
        void* block = outer_not_inlined(5);
        keep(block);
        std::free(block);
      },
      1);
  const auto pps = profile.allocated_in("inlined_inner");
  ASSERT_EQ(pps.size(), 1U);
  // One return address, expanded into its three source-level frames.
  EXPECT_EQ(pps[0]["fs"].size(), 3U);
}

}  // namespace
