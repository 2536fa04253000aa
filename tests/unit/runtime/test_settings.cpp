// A run's settings: the code's options, then the environment, then the defaults; malformed
// environment values are reported and replaced; %p in file names.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "runtime/settings.hpp"

namespace {

TEST(Settings, EnvironmentFillsUnsetFieldsAndBadValuesFallBack) {
  setenv("DHAT_OUT", "from-env.json", 1);
  setenv("DHAT_MAX_FRAMES", "20", 1);
  auto settings = dhat::runtime::resolve_settings(dhat::Options{});
  EXPECT_EQ(settings.file_name, "from-env.json");
  EXPECT_EQ(settings.max_frames, 20U);
  dhat::Options explicit_options;
  explicit_options.file_name = "explicit.json";
  explicit_options.max_frames = 5;
  settings = dhat::runtime::resolve_settings(explicit_options);
  EXPECT_EQ(settings.file_name, "explicit.json");
  EXPECT_EQ(settings.max_frames, 5U);
  setenv("DHAT_MAX_FRAMES", "lots", 1);
  testing::internal::CaptureStderr();
  settings = dhat::runtime::resolve_settings(dhat::Options{});
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(settings.max_frames, dhat::runtime::kDefaultMaxFrames);
  EXPECT_NE(err.find("dhat: ignoring DHAT_MAX_FRAMES='lots'"), std::string::npos) << err;
  setenv("DHAT_MAX_FRAMES", "129", 1);  // above the limit
  testing::internal::CaptureStderr();
  EXPECT_EQ(dhat::runtime::resolve_settings(dhat::Options{}).max_frames, dhat::runtime::kDefaultMaxFrames);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("DHAT_MAX_FRAMES='129'"), std::string::npos);
  unsetenv("DHAT_OUT");
  unsetenv("DHAT_MAX_FRAMES");
  EXPECT_EQ(dhat::runtime::resolve_settings(dhat::Options{}).file_name, "dhat-heap.json");
}

TEST(Settings, FilePatternsNameTheProcess) {
  EXPECT_EQ(dhat::runtime::expand_file_pattern("dhat-heap.%p.json", 4242), "dhat-heap.4242.json");
  EXPECT_EQ(dhat::runtime::expand_file_pattern("%p-%p", 7), "7-7");
  EXPECT_EQ(dhat::runtime::expand_file_pattern("100%%.json", 7), "100%.json");
  EXPECT_EQ(dhat::runtime::expand_file_pattern("plain.json", 7), "plain.json");
  EXPECT_EQ(dhat::runtime::expand_file_pattern("trailing%", 7), "trailing%");
}

}  // namespace
