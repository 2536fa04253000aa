// A program that replaces operator new itself, linked with dhat::dhat: it links (all forms in one
// object collided with the program's: "multiple definition of operator new"), every call reaches
// its own operator new as it would without dhat-cpp (new[] and nothrow new included), and every
// block is recorded once, at the malloc its operator new makes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "profiled_run.hpp"

namespace {

TEST(ProgramNew, AProgramWithItsOwnOperatorNewLinksAndKeepsIt) {
  const std::string path = dhat_test::file_for_current_test();
  std::remove(path.c_str());
  std::FILE* out = popen((std::string(DHAT_OWN_NEW_PROBE) + " " + path).c_str(), "r");
  ASSERT_NE(out, nullptr);
  char line[128] = {};
  const bool read = std::fgets(line, sizeof line, out) != nullptr;
  const int status = pclose(out);
  ASSERT_TRUE(read);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(std::string(line), "plain=3 aligned=2\n");
  const dhat_test::Profile profile = dhat_test::Profile::load(path);
  const auto plain = profile.at("program_new_site");
  EXPECT_EQ(plain.tbk, 3U);
  EXPECT_EQ(plain.tb, sizeof(int) + 4 * sizeof(int) + sizeof(int));
  EXPECT_EQ(plain.eb, 0U);
  const auto aligned = profile.at("program_aligned_site");
  EXPECT_EQ(aligned.tbk, 2U);
  EXPECT_EQ(aligned.tb, 128U + 256U);
  EXPECT_EQ(aligned.eb, 0U);
}

}  // namespace

// ---- The profiler never calls the program's operator new (hostile_new_probe.cpp) ----
// Its pool allocator logs every call and aborts on a block it did not make; each case linked
// with dhat::dhat, and switched off under dhat-run.

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class HostileNew : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
#ifndef DHAT_RUN
    if (GetParam()) {
      GTEST_SKIP() << "no preload library in this build";
    }
#endif
  }
};

TEST_P(HostileNew, TheProfilerNeverCallsTheProgramsOperatorNew) {
  // Names of at most 15 characters, relative: a std::string of those allocates nothing (it holds
  // them inline), so the program's own calls are the same whatever the directory.
  const std::string base = GetParam() ? "hp" : "hl";
  const std::string profile_path = base + ".json", snapshot = base + ".snap.json", testing = base + ".test.json";
  const std::string log = base + ".log", out = base + ".stdout", err = base + ".stderr";
  for (const std::string& file : {profile_path, snapshot, testing, log}) {
    std::remove(file.c_str());
  }
  const std::string args =
      " '" + profile_path + "' '" + snapshot + "' '" + testing + "' >'" + out + "' 2>'" + err + "'";
  std::string command = "HOSTILE_NEW_LOG='" + log + "' DHAT_TIMING=1 ";
#ifdef DHAT_RUN
  if (GetParam()) {
    command += std::string(DHAT_RUN) + " -o '" + profile_path + "' -- " + DHAT_HOSTILE_NEW_PROBE_PLAIN + args;
  }
#endif
  if (!GetParam()) {
    command += std::string(DHAT_HOSTILE_NEW_PROBE) + args;
  }
  const int status = std::system(command.c_str());
  const std::string stderr_text = read_all(err);
  ASSERT_TRUE(WIFEXITED(status)) << stderr_text;
  ASSERT_EQ(WEXITSTATUS(status), 0) << stderr_text;

  // Only main's own calls: new int, new int[8] and their deletes; then (between C and c) the two
  // strings that dhat-cpp handed the program (the saved profile's sentence, the failed check's
  // report), made and freed by the program. Nothing before main, nothing after it, none while
  // the profiler started, recorded, wrote the snapshot, the testing profile or the report.
  // Switched off, the two strings are the no-op API's two sentences.
  EXPECT_EQ(read_all(log), "MnnddCnnddcE");

  const dhat_test::Profile profile = dhat_test::Profile::load(profile_path);
  const auto site = profile.at("probe_malloc_site");
  // The code in no module: "???" frames other than libstdc++'s. Preloaded, recording starts at
  // the process's first allocation, libstdc++'s exception pool (72,704 bytes, live to the end, in
  // "??? (in libstdc++.so...)"): the program is C++ and needs libstdc++, as Valgrind counts it.
  std::vector<nlohmann::json> outside_points, pool_points;
  for (const auto& pp : profile.allocated_in("???")) {
    (profile.frame(pp, 0).find("libstdc++") == std::string::npos ? outside_points : pool_points).push_back(pp);
  }
  const auto outside = dhat_test::Profile::sum(outside_points);
  EXPECT_EQ(outside.tbk, 1U);
  EXPECT_EQ(outside.tb, 40U);
  EXPECT_EQ(outside.eb, 0U);
  const auto pool = dhat_test::Profile::sum(pool_points);
  EXPECT_EQ(pool.tbk, GetParam() ? 1U : 0U);
  EXPECT_EQ(pool.eb, GetParam() ? 72704U : 0U);
  // The report named it through backward-cpp (std::ifstream and std::getline in its set-up).
  // Linked, snapshot and report each symbolize it once; preloaded, the report alone.
  EXPECT_NE(stderr_text.find("(1 outside every DWARF unit"), std::string::npos) << stderr_text;
  if (!GetParam()) {
    EXPECT_EQ(site.tbk, 3U);
    EXPECT_EQ(site.tb, 3U * 64U);
    EXPECT_EQ(dhat_test::Profile::load(snapshot).at("probe_malloc_site").tbk, 3U);
    // The testing-mode profile was saved, and the failed check's report reached the program.
    EXPECT_EQ(read_all(out), "saved=1 refused=0 check_ok=0 report=1\n");
    EXPECT_EQ(dhat_test::Profile::load(testing).at("probe_malloc_site").tbk, 0U);
  } else {
    // The whole process: main's three, then the check's warm-up and two iterations.
    EXPECT_EQ(site.tbk, 3U + 3U);
    EXPECT_EQ(site.tb, 3U * 64U + 3U * 8U);
  }
  EXPECT_EQ(site.eb, 0U);
  for (const std::string& file : {snapshot, testing, log, out, err}) {
    std::remove(file.c_str());
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, HostileNew, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("Preloaded") : std::string("Linked");
                         });

}  // namespace
