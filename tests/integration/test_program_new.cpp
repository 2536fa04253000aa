// A program that replaces operator new itself, linked with dhat::dhat: it links (all forms in one
// object collided with the program's: "multiple definition of operator new"), every call reaches
// its own operator new as it would without dhat-cpp (new[] and nothrow new included), and every
// block is recorded once, at the malloc its operator new makes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
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
