// dhat-cpp for GoogleTest: heap-number checks that produce ordinary gtest failures.
//
// Contract: header-only on top of <dhat/dhat.hpp> (the core library never depends on
// GoogleTest). The allocation checks work with or without a running profiler (without one they
// run a private, quiet one). The DHAT_EXPECT_EQ/NE/TRUE forms need a profiler built with
// `.testing()`; on failure they write the profile first (the run goes on) and name the file in
// the failure message; outside testing mode they fail with a message saying so.
#pragma once

#include <gtest/gtest.h>

#include <dhat/dhat.hpp>
#include <string>
#include <utility>

namespace dhat::testing {

inline ::testing::AssertionResult to_assertion(const AllocationCheck& check) {
  if (check.ok) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "dhat: " << check.report;
}

// Warm up once, then `iterations` more runs of `body` may allocate at most `max_blocks` blocks
// (and at most `max_bytes` bytes). The failure names the allocating call sites.
template <typename Body>
::testing::AssertionResult allocates_at_most(std::uint64_t max_blocks, Body&& body, int iterations = 100,
                                             std::uint64_t max_bytes = UINT64_MAX) {
  return to_assertion(check_allocations(std::forward<Body>(body), AllocationLimits{max_blocks, max_bytes, iterations}));
}

template <typename Body>
::testing::AssertionResult allocates_nothing(Body&& body, int iterations = 100) {
  return allocates_at_most(0, std::forward<Body>(body), iterations);
}

template <typename Body>
::testing::AssertionResult allocates_at_most_bytes(std::uint64_t max_bytes, Body&& body, int iterations = 100) {
  return allocates_at_most(UINT64_MAX, std::forward<Body>(body), iterations, max_bytes);
}

namespace detail {

inline ::testing::AssertionResult failed_with_profile(::testing::AssertionResult failure) {
  std::string refusal;
  const std::string saved = ::dhat::detail::save_profile_for_failed_assertion(&refusal);
  if (!refusal.empty()) {
    return ::testing::AssertionFailure() << refusal;
  }
  return failure << "\n" << saved;
}

inline ::testing::AssertionResult refused_or_success() {
  const std::string refusal = ::dhat::detail::testing_mode_refusal();
  if (!refusal.empty()) {
    return ::testing::AssertionFailure() << refusal;
  }
  return ::testing::AssertionSuccess();
}

template <typename L, typename R>
::testing::AssertionResult eq(const char* left_text, const char* right_text, const L& left, const R& right) {
  if (left == right) {
    return refused_or_success();
  }
  return failed_with_profile(::testing::internal::EqFailure(left_text, right_text, ::testing::PrintToString(left),
                                                            ::testing::PrintToString(right), false));
}

template <typename L, typename R>
::testing::AssertionResult ne(const char* left_text, const char* right_text, const L& left, const R& right) {
  if (left != right) {
    return refused_or_success();
  }
  return failed_with_profile(::testing::AssertionFailure() << "Expected: (" << left_text << ") != (" << right_text
                                                           << "), actual: " << ::testing::PrintToString(left) << " vs "
                                                           << ::testing::PrintToString(right));
}

inline ::testing::AssertionResult holds(const char* text, bool value) {
  if (value) {
    return refused_or_success();
  }
  return failed_with_profile(::testing::AssertionFailure()
                             << "Value of: " << text << "\n  Actual: false\nExpected: true");
}

}  // namespace detail
}  // namespace dhat::testing

#define DHAT_EXPECT_EQ(left, right) EXPECT_PRED_FORMAT2(::dhat::testing::detail::eq, left, right)
#define DHAT_EXPECT_NE(left, right) EXPECT_PRED_FORMAT2(::dhat::testing::detail::ne, left, right)
#define DHAT_EXPECT_TRUE(condition) EXPECT_PRED_FORMAT1(::dhat::testing::detail::holds, condition)
// Fatal forms (return from the test on failure). DHAT_ASSERT_EQ itself is the core's aborting
// assertion, usable without GoogleTest; these are its GoogleTest counterparts.
#define DHAT_GTEST_ASSERT_EQ(left, right) ASSERT_PRED_FORMAT2(::dhat::testing::detail::eq, left, right)
#define DHAT_GTEST_ASSERT_NE(left, right) ASSERT_PRED_FORMAT2(::dhat::testing::detail::ne, left, right)
#define DHAT_GTEST_ASSERT_TRUE(condition) ASSERT_PRED_FORMAT1(::dhat::testing::detail::holds, condition)

// The block runs once to warm up, then 100 more times, and must not allocate.
#define DHAT_EXPECT_NO_ALLOCATIONS(...) EXPECT_TRUE(::dhat::testing::allocates_nothing([&] { __VA_ARGS__; }))
#define DHAT_ASSERT_NO_ALLOCATIONS(...) ASSERT_TRUE(::dhat::testing::allocates_nothing([&] { __VA_ARGS__; }))
