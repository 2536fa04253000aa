// dhat::dhat linked into a shared library that a plain program loads with dlopen (a plugin, a
// Python extension). With 18,000 bytes of initial-exec TLS, dlopen failed: "cannot allocate
// memory in static TLS block".
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "profile_reader.hpp"

namespace {

TEST(Plugin, APluginLinkedWithDhatLoadsAndProfilesItsOwnWork) {
  const std::string profile = "plugin-profile.json";
  const std::string err = "plugin-host.stderr";
  std::remove(profile.c_str());
  const std::string command = std::string(DHAT_PLUGIN_HOST) + " '" + DHAT_PLUGIN + "' " + profile + " 2>" + err;
  const int status = std::system(command.c_str());
  std::ifstream in(err);
  std::stringstream text;
  text << in.rdbuf();
  ASSERT_TRUE(WIFEXITED(status)) << text.str();
  ASSERT_EQ(WEXITSTATUS(status), 0) << text.str();
  const auto site = dhat_test::Profile::load(profile).at("plugin_site");
  EXPECT_EQ(site.tbk, 10U);
  EXPECT_EQ(site.tb, 1000U);
  EXPECT_EQ(site.eb, 100U);
}

}  // namespace
