// Static constructors and destructors and thread_local destructors, linked and preloaded.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "profile_reader.hpp"

using dhat_test::Profile;

namespace {

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(Lifecycle, LinkedModeSeesThreadLocalDestructorsButNotStaticInitialization) {
  ASSERT_EQ(run(std::string(DHAT_LIFECYCLE_LINKED) + " linked lifecycle-linked.json 2>/dev/null"), 0);
  const Profile profile = Profile::load("lifecycle-linked.json");
  // The worker's thread_local: constructed, destroyed at thread exit, its destructor allocating.
  EXPECT_EQ(profile.at("tls_ctor_site").tb, 222U);
  EXPECT_EQ(profile.at("tls_ctor_site").eb, 0U);
  EXPECT_EQ(profile.at("tls_dtor_site").tb, 333U);
  EXPECT_EQ(profile.at("tls_dtor_site").eb, 0U);
  // The static object was built before the Profiler started: not part of this profile.
  EXPECT_EQ(profile.at("static_ctor_site").count, 0U);
}

TEST(Lifecycle, PreloadedModeSeesStaticInitializationBeforeMain) {
  ASSERT_EQ(run("rm -f lifecycle-preload.*.json"), 0);
  ASSERT_EQ(run(std::string(DHAT_RUN) + " -o lifecycle-preload.json -- " + DHAT_LIFECYCLE_PLAIN + " 2>/dev/null"), 0);
  const Profile profile = Profile::load("lifecycle-preload.json");
  const auto statics = profile.at("static_ctor_site");
  EXPECT_EQ(statics.tb, 1111U);
  EXPECT_EQ(statics.tbk, 1U);
  // Freed by its static destructor, which runs before the profile is written.
  EXPECT_EQ(statics.eb, 0U);
  // Its stack says how it got there: a static initializer, not main.
  bool through_initializer = false;
  for (const auto& pp : profile.allocated_in("static_ctor_site")) {
    for (std::size_t i = 0; i < pp["fs"].size(); ++i) {
      const std::string frame = profile.frame(pp, i);
      through_initializer |= frame.find("_GLOBAL__sub_I") != std::string::npos ||
                             frame.find("__static_initialization") != std::string::npos ||
                             frame.find("StaticHolder") != std::string::npos;
      EXPECT_EQ(frame.find(": main "), std::string::npos) << frame;
    }
  }
  EXPECT_TRUE(through_initializer);
  EXPECT_EQ(profile.at("tls_dtor_site").tb, 333U);
}

}  // namespace
