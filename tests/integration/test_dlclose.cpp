// A library loaded with dlopen, allocating, then unloaded with dlclose before the profile is
// written: its frames must still be named (they are resolved at dlclose, while still mapped).
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "profiled_run.hpp"

namespace {

TEST(Dlclose, FramesOfAnUnloadedLibraryAreStillNamed) {
  void* leaked = nullptr;
  bool unloaded = false;
  auto profile = dhat_test::profile_of([&] {
    void* library = dlopen(DHAT_VICTIM_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(library, nullptr) << dlerror();
    auto victim_alloc = reinterpret_cast<void* (*)(std::size_t)>(dlsym(library, "victim_alloc"));
    ASSERT_NE(victim_alloc, nullptr);
    leaked = victim_alloc(4321);
    ASSERT_EQ(dlclose(library), 0);
    unloaded = dlopen(DHAT_VICTIM_LIBRARY, RTLD_NOW | RTLD_NOLOAD) == nullptr;
  });
  std::free(leaked);
  EXPECT_TRUE(unloaded) << "the library should really be gone when the profile is written";
  const auto pps = profile.allocated_in("victim_alloc");
  ASSERT_EQ(pps.size(), 1U);
  EXPECT_EQ(pps[0]["tb"].get<std::uint64_t>(), 4321U);
  EXPECT_EQ(pps[0]["eb"].get<std::uint64_t>(), 4321U);
  EXPECT_NE(profile.frame(pps[0], 0).find("dl_victim.c:5)"), std::string::npos) << profile.frame(pps[0], 0);
}

}  // namespace
