// Testing mode: the core's aborting DHAT_ASSERT* and the GoogleTest forms from <dhat/gtest.hpp>.
// On failure the profile is written first and the message names the file, the expression and
// both values; outside testing mode they refuse.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <dhat/gtest.hpp>
#include <memory>
#include <vector>

#include "profiled_run.hpp"

using dhat_test::keep;
using dhat_test::Profile;

namespace {

extern "C" __attribute__((noinline)) void* testing_site(std::size_t n) { return std::malloc(n); }

// The failures a statement reports, caught instead of failing this test.
template <typename Statement>
std::vector<std::string> failures_of(Statement statement) {
  ::testing::TestPartResultArray results;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    statement();
  }
  std::vector<std::string> messages;
  messages.reserve(static_cast<std::size_t>(results.size()));
  for (int i = 0; i < results.size(); ++i) {
    messages.emplace_back(results.GetTestPartResult(i).message());
  }
  return messages;
}

TEST(TestingMode, PassingChecksWriteNothing) {
  std::remove("passing.json");
  {
    dhat::Profiler profiler = dhat::Profiler::builder().testing().file_name("passing.json").build();
    void* block = testing_site(64);
    keep(block);
    const dhat::HeapStats stats = dhat::HeapStats::get();
    DHAT_EXPECT_EQ(stats.curr_blocks, 1U);
    DHAT_EXPECT_NE(stats.total_bytes, 0U);
    DHAT_EXPECT_TRUE(stats.max_bytes >= 64);
    DHAT_ASSERT_EQ(stats.total_blocks, 1U);
    DHAT_ASSERT(stats.curr_bytes == 64);
    std::free(block);
  }
  EXPECT_NE(access("passing.json", F_OK), 0) << "testing mode writes only when a check fails";
}

TEST(TestingMode, FailedExpectationWritesTheProfileAndNamesIt) {
  std::remove("failed-expect.json");
  std::vector<std::string> messages;
  {
    dhat::Profiler profiler = dhat::Profiler::builder().testing().file_name("failed-expect.json").build();
    void* block = testing_site(64);
    keep(block);
    const dhat::HeapStats stats = dhat::HeapStats::get();
    messages = failures_of([&] { DHAT_EXPECT_EQ(stats.curr_blocks, 2U); });
    std::free(block);
  }
  ASSERT_EQ(messages.size(), 1U);
  EXPECT_NE(messages[0].find("stats.curr_blocks"), std::string::npos) << messages[0];
  EXPECT_NE(messages[0].find("Which is: 1"), std::string::npos) << messages[0];
  EXPECT_NE(messages[0].find("Which is: 2"), std::string::npos) << messages[0];
  EXPECT_NE(messages[0].find("the profile has been saved to " + dhat_test::in_current_directory("failed-expect.json")),
            std::string::npos)
      << messages[0];
  // The file holds the state at the failure: the 64-byte block still live.
  const auto site = Profile::load("failed-expect.json").at("testing_site");
  EXPECT_EQ(site.tb, 64U);
  EXPECT_EQ(site.eb, 64U);
}

TEST(TestingMode, FatalGtestFormStopsTheTestAfterSavingTheProfile) {
  std::remove("failed-fatal.json");
  dhat::Profiler profiler = dhat::Profiler::builder().testing().file_name("failed-fatal.json").build();
  EXPECT_FATAL_FAILURE(DHAT_GTEST_ASSERT_TRUE(dhat::HeapStats::get().total_blocks > 1000000),
                       "the profile has been saved to " + dhat_test::in_current_directory("failed-fatal.json"));
  EXPECT_EQ(access("failed-fatal.json", F_OK), 0);
}

TEST(TestingMode, GtestFormsRefuseOutsideTestingMode) {
  const auto without_profiler = failures_of([] { DHAT_EXPECT_EQ(1, 1); });
  ASSERT_EQ(without_profiler.size(), 1U);
  EXPECT_NE(without_profiler[0].find("need a running dhat::Profiler built with .testing()"), std::string::npos)
      << without_profiler[0];
  std::vector<std::string> with_plain_profiler;
  {
    dhat::Profiler profiler = dhat::Profiler::builder().file_name(dhat_test::file_for_current_test()).build();
    with_plain_profiler = failures_of([] { DHAT_EXPECT_TRUE(true); });
  }
  ASSERT_EQ(with_plain_profiler.size(), 1U);
  EXPECT_NE(with_plain_profiler[0].find(".testing()"), std::string::npos);
}

TEST(TestingModeDeathTest, FailedCoreAssertionWritesTheProfileThenAborts) {
  std::remove("death.json");
  EXPECT_DEATH(
      {
        dhat::Profiler profiler = dhat::Profiler::builder().testing().file_name("death.json").build();
        void* block = testing_site(100);
        keep(block);
        const dhat::HeapStats stats = dhat::HeapStats::get();
        DHAT_ASSERT_EQ(stats.curr_bytes, 99U);
      },
      "dhat: assertion failed at .*test_testing_mode.cpp:[0-9]+: `stats.curr_bytes == 99U` \\(left: 100, right: "
      "99\\); the profile has been saved to /.*/death.json");
  const auto site = Profile::load("death.json").at("testing_site");
  EXPECT_EQ(site.eb, 100U);
}

TEST(TestingModeDeathTest, CoreAssertionRefusesOutsideTestingMode) {
  EXPECT_DEATH({ DHAT_ASSERT(1 + 1 == 2); }, "dhat assertions need a running dhat::Profiler built with .testing\\(\\)");
}

}  // namespace
