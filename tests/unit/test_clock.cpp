// The profile clock against CLOCK_MONOTONIC: monotonic, and within a few microseconds of it
// before, across and after the TSC calibration at 10 ms.
#include <gtest/gtest.h>

#include "core/clock.hpp"

namespace {

TEST(ProfileClock, FollowsTheMonotonicClockAcrossCalibration) {
  dhat::core::ProfileClock clock;
  const std::uint64_t start_ns = dhat::core::monotonic_ns();
  clock.start();
  const std::uint64_t started_ns = dhat::core::monotonic_ns();  // the clock's zero is in between
  std::uint64_t previous = 0;
  std::uint64_t readings = 0;
  for (;;) {
    const std::uint64_t before = dhat::core::monotonic_ns();
    const std::uint64_t ours = clock.now_ns();
    const std::uint64_t after = dhat::core::monotonic_ns();
    ASSERT_GE(ours, previous) << "after " << readings << " readings";
    previous = ours;
    ++readings;
    // The TSC's extrapolation may run a little ahead or behind; 50 us over 60 ms is 0.08%.
    ASSERT_GE(ours + 50'000, before) << "after " << readings << " readings";
    ASSERT_LE(ours, after + 50'000) << "after " << readings << " readings";
    if (after - start_ns > 60'000'000) {
      break;
    }
  }
  EXPECT_GT(readings, 1000U);
  // Microseconds since start(), bracketed by CLOCK_MONOTONIC (not by a fixed bound: a loaded
  // machine may pause this thread for milliseconds anywhere).
  const std::uint64_t before = dhat::core::monotonic_ns();
  const std::uint64_t us = clock.now_us();
  const std::uint64_t after = dhat::core::monotonic_ns();
  EXPECT_GE(us, 59'000U);
  EXPECT_GE(us * 1000 + 50'000 + 1'000, before - started_ns);
  EXPECT_LE(us * 1000, after - start_ns + 50'000);
}

}  // namespace
