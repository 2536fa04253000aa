// Capturing the caller's stack: the frame limit is respected (the walkers themselves are compared in
// test_cfi_unwinder.cpp).
#include <gtest/gtest.h>

#include "core/stack_capture.hpp"

using namespace dhat::core;

namespace {

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
