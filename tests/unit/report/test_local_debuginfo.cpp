// Where the symbolizer looks for separate debug files: the search order, the build-id check,
// and that naming a frame in a library without debug information never loads libdebuginfod
// (which would bring libcurl and OpenSSL into the profiled process, and the network).
#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "report/dwarf_symbolizer.hpp"
#include "report/local_debuginfo.hpp"

using namespace dhat::report;
namespace fs = std::filesystem;

namespace {

std::string path_of_object_holding(const void* address) {
  Dl_info info{};
  return dladdr(address, &info) != 0 && info.dli_fname != nullptr ? fs::canonical(info.dli_fname).string() : "";
}

bool debuginfod_client_loaded() {
  bool found = false;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) {
        if (info->dlpi_name != nullptr && std::string(info->dlpi_name).find("libdebuginfod") != std::string::npos) {
          *static_cast<bool*>(data) = true;
        }
        return 0;
      },
      &found);
  return found;
}

class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    char name[] = "/tmp/dhat-debuginfo-XXXXXX";
    path_ = mkdtemp(name) == nullptr ? "" : name;
  }
  ~TemporaryDirectory() { fs::remove_all(path_); }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) {
      old_ = old;
      had_ = true;
    }
    if (value == nullptr) {
      unsetenv(name);
    } else {
      setenv(name, value, 1);
    }
  }
  ~ScopedEnvironment() {
    if (had_) {
      setenv(name_.c_str(), old_.c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

 private:
  std::string name_;
  std::string old_;
  bool had_ = false;
};

TEST(LocalDebuginfo, BuildIdTreeFirstThenTheDebuglinkPlacesThenDebuginfodsCache) {
  EXPECT_EQ(debuginfo_candidates("ab12cd", "/usr/lib/x/libfoo.so.1", "libfoo.debug", "/root/debug", "/c"),
            (std::vector<std::string>{"/root/debug/.build-id/ab/12cd.debug", "/usr/lib/x/libfoo.debug",
                                      "/usr/lib/x/.debug/libfoo.debug", "/root/debug/usr/lib/x/libfoo.debug",
                                      "/c/ab12cd/debuginfo"}));
  // No build id: the debuglink places only. No debuglink: the build id's places only.
  EXPECT_EQ(debuginfo_candidates("", "/opt/app", "app.dbg", "/usr/lib/debug", "/c"),
            (std::vector<std::string>{"/opt/app.dbg", "/opt/.debug/app.dbg", "/usr/lib/debug/opt/app.dbg"}));
  EXPECT_EQ(debuginfo_candidates("ab12cd", "/opt/app", nullptr, "/usr/lib/debug", ""),
            (std::vector<std::string>{"/usr/lib/debug/.build-id/ab/12cd.debug"}));
  // An absolute debuglink is taken as it is.
  EXPECT_EQ(debuginfo_candidates("", "/opt/app", "/srv/app.debug", "/usr/lib/debug", ""),
            (std::vector<std::string>{"/srv/app.debug"}));
}

TEST(LocalDebuginfo, DebuginfodsCacheDirectoryFollowsItsEnvironmentVariables) {
  ScopedEnvironment home("HOME", "/home/u");
  ScopedEnvironment xdg("XDG_CACHE_HOME", nullptr);
  ScopedEnvironment cache("DEBUGINFOD_CACHE_PATH", nullptr);
  EXPECT_EQ(debuginfod_cache_directory(), "/home/u/.cache/debuginfod_client");
  setenv("XDG_CACHE_HOME", "/xdg", 1);
  EXPECT_EQ(debuginfod_cache_directory(), "/xdg/debuginfod_client");
  setenv("DEBUGINFOD_CACHE_PATH", "/explicit", 1);
  EXPECT_EQ(debuginfod_cache_directory(), "/explicit");
}

TEST(LocalDebuginfo, OpensOnlyTheCandidateWhoseBuildIdMatches) {
  const std::string self = fs::canonical("/proc/self/exe").string();
  const std::string library = path_of_object_holding(reinterpret_cast<const void*>(&std::terminate));
  const std::string wanted = build_id_of(self.c_str());
  ASSERT_EQ(wanted.size(), 40U) << "the test binary should carry a SHA-1 build id";
  ASSERT_NE(build_id_of(library.c_str()), wanted);

  TemporaryDirectory directory;
  const std::string not_elf = directory.path() + "/text.debug";
  const std::string other_build = directory.path() + "/other.debug";
  const std::string right = directory.path() + "/right.debug";
  std::ofstream(not_elf) << "not an ELF file\n";
  fs::copy_file(library, other_build);
  fs::copy_file(self, right);

  char* opened = nullptr;
  const int fd =
      open_debuginfo({directory.path() + "/missing.debug", not_elf, other_build, right}, wanted, self.c_str(), &opened);
  ASSERT_GE(fd, 0);
  EXPECT_STREQ(opened, right.c_str());
  std::free(opened);
  close(fd);

  opened = nullptr;
  EXPECT_EQ(open_debuginfo({not_elf, other_build}, wanted, self.c_str(), &opened), -1);
  EXPECT_EQ(opened, nullptr);
}

TEST(LocalDebuginfo, WithoutABuildIdTheBinaryItselfIsNoDebugFile) {
  const std::string self = fs::canonical("/proc/self/exe").string();
  TemporaryDirectory directory;
  const std::string copy = directory.path() + "/copy.debug";
  fs::copy_file(self, copy);
  char* opened = nullptr;
  const int fd = open_debuginfo({self, copy}, "", self.c_str(), &opened);
  ASSERT_GE(fd, 0);
  EXPECT_STREQ(opened, copy.c_str());
  std::free(opened);
  close(fd);
}

TEST(LocalDebuginfo, NamingAFrameInALibraryWithoutDebugInformationLoadsNoDebuginfodClient) {
  // Under ctest each test runs in its own process; run alone, a test before may have loaded it
  // (backward-cpp's resolver uses the standard search).
  if (debuginfod_client_loaded()) {
    GTEST_SKIP() << "libdebuginfod was loaded before this test started";
  }
  const auto terminate = reinterpret_cast<std::uintptr_t>(static_cast<void (*)()>(&std::terminate));
  const std::string library = path_of_object_holding(reinterpret_cast<const void*>(terminate));
  DwarfSymbolizer symbolizer;
  const std::vector<Frame> frames = symbolizer.resolve(terminate + 8);
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].object, library);
  EXPECT_NE(frames[0].function.find("terminate"), std::string::npos) << frames[0].function;
  EXPECT_FALSE(debuginfod_client_loaded());
}

}  // namespace
