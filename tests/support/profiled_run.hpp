// Test support: run a scenario under a fresh Profiler and read back the file it wrote.
#pragma once

#include <gtest/gtest.h>

#include <dhat/dhat.hpp>
#include <string>

#include "profile_reader.hpp"

namespace dhat_test {

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
