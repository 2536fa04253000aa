// Test support: run a scenario under a fresh Profiler and read back the file it wrote.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <dhat/dhat.hpp>
#include <string>

#include "profile_reader.hpp"

namespace dhat_test {

// `name` in the current directory, as the profiler names its files in messages (in full: the
// name is resolved when the run starts).
inline std::string in_current_directory(const std::string& name) {
  char directory[4096];
  return std::string(getcwd(directory, sizeof directory) == nullptr ? "" : directory) + "/" + name;
}

inline std::string file_for_current_test() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name() + ".json";
}

template <typename Scenario>
Profile profile_of(Scenario&& scenario, std::size_t max_frames = 12) {
  const std::string path = file_for_current_test();
  {
    dhat::Profiler profiler = dhat::Profiler::builder().file_name(path).trim_backtraces(max_frames).build();
    scenario();
  }
  return Profile::load(path);
}

// Keeps the optimizer from removing an allocation whose result is otherwise unused.
inline void keep(void* pointer) { asm volatile("" : : "r"(pointer) : "memory"); }

}  // namespace dhat_test
