// The same scenario (valgrind_scenario.cpp) profiled on two architectures gives the same numbers
// per allocation site: only addresses and times may differ. Run by the cross-built (aarch64)
// tests, with the x86-64 build's scenario beside their own (the aarch64 preset points at
// build/dev; that program runs natively from inside the emulated test); skipped elsewhere.
#include <gtest/gtest.h>
#include <sys/stat.h>
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

TEST(CrossArchitecture, EverySiteHasTheSameNumbersOnBothArchitectures) {
  const char* const other = DHAT_OTHER_ARCHITECTURE_SCENARIO;
  struct stat info {};
  if (other[0] == '\0' || stat(other, &info) != 0) {
    GTEST_SKIP() << "skipped: no scenario built for another architecture (the aarch64 preset compares with "
                    "build/dev's; build that first)";
  }
  ASSERT_EQ(run(std::string(DHAT_SCENARIO_PROFILED) + " this-architecture.json 2>/dev/null"), 0);
  ASSERT_EQ(run(std::string(other) + " other-architecture.json 2>/dev/null"), 0);
  const Profile here = Profile::load("this-architecture.json");
  const Profile there = Profile::load("other-architecture.json");
  for (const char* site :
       {"vg_malloc_site", "vg_calloc_site", "vg_realloc_origin", "vg_new_site", "vg_peak_site", "vg_leak_site"}) {
    SCOPED_TRACE(site);
    const auto a = here.at(site);
    const auto b = there.at(site);
    ASSERT_GT(a.count, 0U);
    EXPECT_EQ(a.tb, b.tb);
    EXPECT_EQ(a.tbk, b.tbk);
    EXPECT_EQ(a.gb, b.gb);
    EXPECT_EQ(a.gbk, b.gbk);
    EXPECT_EQ(a.eb, b.eb);
    EXPECT_EQ(a.ebk, b.ebk);
  }
  // Through libstdc++'s inlined code, compared as a whole.
  const auto a = Profile::sum(here.passing_through("vg_container_site"));
  const auto b = Profile::sum(there.passing_through("vg_container_site"));
  EXPECT_EQ(a.tb, b.tb);
  EXPECT_EQ(a.tbk, b.tbk);
  EXPECT_EQ(a.eb, b.eb);
  // And the whole run.
  std::uint64_t totals[2][4] = {};
  for (int i = 0; i < 2; ++i) {
    for (const auto& pp : (i == 0 ? here : there).doc["pps"]) {
      totals[i][0] += pp["tb"].get<std::uint64_t>();
      totals[i][1] += pp["tbk"].get<std::uint64_t>();
      totals[i][2] += pp["gb"].get<std::uint64_t>();
      totals[i][3] += pp["eb"].get<std::uint64_t>();
    }
  }
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(totals[0][k], totals[1][k]) << "total " << k;
  }
}

}  // namespace
