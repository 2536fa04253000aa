// Bad input and process exit: a second Profiler, unwritable output paths, exit() with a live
// Profiler. The program's own exit status is never changed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "parked_threads.hpp"
#include "profiled_run.hpp"

using dhat_test::keep;
using dhat_test::Profile;

namespace {

extern "C" __attribute__((noinline)) void* error_site(std::size_t n) { return std::malloc(n); }

struct ProbeResult {
  int exit_status = -1;
  std::string stderr_text;
};

// `shell_first`: shell commands run before the probe (a ulimit); `stdout_to`: where its standard
// output goes (the test's own if empty).
ProbeResult run_probe(const std::string& mode, const std::string& file, const std::string& shell_first = "",
                      const std::string& stdout_to = "", const char* probe = DHAT_EXIT_PROBE) {
  // One file per test process: ctest runs tests of this executable in parallel.
  const std::string err = "probe-" + mode + "-" + std::to_string(getpid()) + ".stderr";
  const std::string command = shell_first + std::string(probe) + " " + mode + " '" + file + "' 2>" + err +
                              (stdout_to.empty() ? std::string() : " >" + stdout_to);
  const int status = std::system(command.c_str());
  ProbeResult result;
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err);
  std::stringstream text;
  text << in.rdbuf();
  result.stderr_text = text.str();
  std::remove(err.c_str());
  return result;
}

TEST(Errors, SecondProfilerIsRefusedAndChangesNothing) {
  const std::string path = dhat_test::file_for_current_test();
  std::string second_stderr;
  {
    dhat::Profiler first = dhat::Profiler::builder().file_name(path).build();
    ASSERT_TRUE(first.is_running());
    void* before = error_site(10);
    testing::internal::CaptureStderr();
    {
      dhat::Profiler second = dhat::Profiler::builder().file_name("must-not-exist.json").build();
      EXPECT_FALSE(second.is_running());
    }
    second_stderr = testing::internal::GetCapturedStderr();
    void* after = error_site(20);
    keep(before);
    keep(after);
    std::free(before);
    std::free(after);
  }
  EXPECT_NE(second_stderr.find("dhat: error: a dhat::Profiler is already running"), std::string::npos) << second_stderr;
  EXPECT_NE(access("must-not-exist.json", F_OK), 0);
  const auto site = Profile::load(path).at("error_site");
  EXPECT_EQ(site.tb, 30U);
  EXPECT_EQ(site.tbk, 2U);
  EXPECT_EQ(site.eb, 0U);
}

TEST(Errors, MissingDirectoryIsReportedAndTheExitStatusKept) {
  const ProbeResult result = run_probe("return", "/nonexistent-dhat-dir/out.json");
  EXPECT_EQ(result.exit_status, 7);
  EXPECT_NE(
      result.stderr_text.find(
          "dhat: error: could not write the profile to '/nonexistent-dhat-dir/out.json': No such file or directory"),
      std::string::npos)
      << result.stderr_text;
}

TEST(Errors, PathThatIsADirectoryIsReportedAndLeavesNoTemporaryFile) {
  mkdir("a-directory.json", 0755);
  const ProbeResult result = run_probe("return", "a-directory.json");
  EXPECT_EQ(result.exit_status, 7);
  EXPECT_NE(result.stderr_text.find("dhat: error: could not write the profile to '" +
                                    dhat_test::in_current_directory("a-directory.json") + "': Is a directory"),
            std::string::npos)
      << result.stderr_text;
  struct stat info {};
  ASSERT_EQ(stat("a-directory.json", &info), 0);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  // No stray "a-directory.json.tmp.<pid>.<n>" is left behind.
  const std::string listing = "ls a-directory.json.tmp.* 2>/dev/null | wc -l > tmp-count.txt";
  ASSERT_EQ(std::system(listing.c_str()), 0);
  std::ifstream count("tmp-count.txt");
  int leftovers = -1;
  count >> leftovers;
  EXPECT_EQ(leftovers, 0);
}

TEST(Errors, ExistingProfileIsReplacedWhole) {
  {
    std::ofstream old("replaced.json");
    old << "an older file";
  }
  const ProbeResult result = run_probe("return", "replaced.json");
  EXPECT_EQ(result.exit_status, 7);
  const auto site = Profile::load("replaced.json").at("probe_leak");
  EXPECT_EQ(site.eb, 777U);
}

TEST(Errors, MalformedEnvironmentValuesFallBackWithAMessage) {
  setenv("DHAT_MAX_FRAMES", "many", 1);
  setenv("DHAT_SNAPSHOT_SIGNAL", "SIGBOGUS", 1);
  setenv("DHAT_UNWINDER", "fast", 1);
  setenv("DHAT_TIMING", "yes", 1);
  const ProbeResult result = run_probe("return", "malformed.json");
  unsetenv("DHAT_MAX_FRAMES");
  unsetenv("DHAT_SNAPSHOT_SIGNAL");
  unsetenv("DHAT_UNWINDER");
  unsetenv("DHAT_TIMING");
  EXPECT_EQ(result.exit_status, 7);
  for (const char* expected : {"dhat: ignoring DHAT_MAX_FRAMES='many': expected a whole number from 1 to 128; using 12",
                               "dhat: ignoring DHAT_SNAPSHOT_SIGNAL='SIGBOGUS': expected a signal such as SIGUSR2",
                               "dhat: ignoring DHAT_UNWINDER='fast': expected cfi or libgcc; using cfi",
                               "dhat: ignoring DHAT_TIMING='yes': expected 0 or 1; using 0"}) {
    EXPECT_NE(result.stderr_text.find(expected), std::string::npos) << result.stderr_text;
  }
  EXPECT_EQ(result.stderr_text.find("dhat: timing:"), std::string::npos) << result.stderr_text;
  EXPECT_EQ(Profile::load("malformed.json").at("probe_leak").eb, 777U);  // the run itself is fine
}

TEST(Errors, TimingLineNamesTheReportsCounts) {
  setenv("DHAT_TIMING", "1", 1);
  const ProbeResult result = run_probe("return", "timing.json");
  unsetenv("DHAT_TIMING");
  EXPECT_EQ(result.exit_status, 7);
  const std::size_t at = result.stderr_text.find("dhat: timing: ");
  ASSERT_NE(at, std::string::npos) << result.stderr_text;
  // "N stacks, A addresses -> P program points": P is what the file holds.
  const std::string line = result.stderr_text.substr(at, result.stderr_text.find('\n', at) - at);
  const std::size_t arrow = line.find("-> ");
  ASSERT_NE(arrow, std::string::npos) << line;
  const std::size_t program_points = std::stoul(line.substr(arrow + 3));
  std::ifstream in("timing.json");
  const nlohmann::json profile = nlohmann::json::parse(in);
  EXPECT_EQ(program_points, profile["pps"].size()) << line;
  EXPECT_NE(line.find(" s, written in "), std::string::npos) << line;
  EXPECT_NE(line.find(" s; 0 stack walks needed libgcc; threads "), std::string::npos) << line;
  EXPECT_TRUE(line.find("threads buffer their events") != std::string::npos ||
              line.find("threads take a lock per event") != std::string::npos)
      << line;
}

TEST(Exit, ExitWithALiveProfilerWritesTheProfile) {
  std::remove("exit.json");
  const ProbeResult result = run_probe("exit", "exit.json");
  EXPECT_EQ(result.exit_status, 5);
  EXPECT_NE(result.stderr_text.find("dhat: At t-end:"), std::string::npos) << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("dhat: The data has been saved to " + dhat_test::in_current_directory("exit.json")),
            std::string::npos)
      << result.stderr_text;
  const auto site = Profile::load("exit.json").at("probe_leak");
  EXPECT_EQ(site.tb, 777U);
  EXPECT_EQ(site.eb, 777U);
  EXPECT_EQ(site.ebk, 1U);
}

TEST(Exit, ExitFromAnotherThreadWritesTheProfile) {
  std::remove("thread-exit.json");
  const ProbeResult result = run_probe("thread-exit", "thread-exit.json");
  EXPECT_EQ(result.exit_status, 9);
  const auto site = Profile::load("thread-exit.json").at("probe_leak");
  EXPECT_EQ(site.eb, 777U);
}

// Snapshots written by threads, with memory to spare: nothing was lost, so nothing is said to be
// (the writers' own reallocs were each counted as an event not recorded: "dhat: warning: N
// events were not recorded (out of memory)", N from 87 to 26,076).
TEST(Exit, SnapshotsFromThreadsLoseNothingAndRaiseNoAlarm) {
  const std::string path = dhat_test::file_for_current_test();
  const ProbeResult result = run_probe("snapshots", path);
  EXPECT_EQ(result.exit_status, 7);
  EXPECT_EQ(result.stderr_text.find("not recorded"), std::string::npos) << result.stderr_text;
  std::size_t saved = 0;
  for (std::size_t at = 0; (at = result.stderr_text.find("dhat: snapshot saved to ", at)) != std::string::npos; ++at) {
    ++saved;
  }
  EXPECT_EQ(saved, 20U);
  const auto site = Profile::load(path).at("probe_leak");
  EXPECT_EQ(site.tb, 777U + 20 * 64U);
  EXPECT_EQ(site.tbk, 21U);
  EXPECT_EQ(site.eb, 777U);
  for (int i = 0; i < 20; ++i) {
    std::remove((path + "." + std::to_string(i)).c_str());
  }
}

// The command that runs a probe: linked (`linked`), or its switched-off build under dhat-run
// with FILE as the profile's name (empty when this build has no preload library).
std::string probe_command(bool linked, const char* probe, const char* plain_probe, const std::string& file) {
  if (linked) {
    return probe;
  }
#ifdef DHAT_RUN
  return std::string(DHAT_RUN) + " -o '" + file + "' -- " + plain_probe;
#else
  static_cast<void>(plain_probe);
  static_cast<void>(file);
  return "";
#endif
}

#ifndef DHAT_SIGNAL_PROBE_PLAIN
#define DHAT_SIGNAL_PROBE_PLAIN ""
#define DHAT_OWN_CALL_PROBE_PLAIN ""
#endif

// A signal handler that allocates, interrupting its thread inside the profiler (holding its lock,
// draining the other threads' events): the program finishes (a thread interrupted while draining
// waited for itself forever: about 1 run in 5 hung), the workers' numbers are exact, and every
// allocation of the handler is either in the profile or counted in the warning. Three runs.
// The handler interrupts the reader inside the profiler (holding its lock, draining the
// workers' events) hundreds of times a run: its events are held and recorded once the reader
// leaves, so every one of its blocks is in the profile, and freed.
// Three runs reading the heap's numbers, and two that also write a snapshot every round: the
// thread that takes the signal then mostly waits for the profiler's writer thread, and its
// handler's events meanwhile are recorded too (they were passed through unrecorded while that
// thread wrote the snapshot itself). Then two runs of the probe switched off under dhat-run.
TEST(Exit, ASignalHandlerThatAllocatesInsideTheProfilerNeverHangsAndIsRecordedExactly) {
  for (int run = 0; run < 7; ++run) {
    const std::string path = dhat_test::file_for_current_test();
    const std::string out = path + ".stdout";
    const std::string err = path + ".stderr";
    const std::string mode = run < 3 || run >= 5 ? "" : " snapshots";
    const std::string probe = probe_command(run < 5, DHAT_SIGNAL_PROBE, DHAT_SIGNAL_PROBE_PLAIN, path);
    if (probe.empty()) {
      continue;  // no preload library in this build
    }
    SCOPED_TRACE(probe + mode);
    const int status = std::system(("timeout 60 " + probe + " " + path + mode + " >" + out + " 2>" + err).c_str());
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0) << "124: it hung";
    std::ifstream out_in(out);
    std::string word;
    long calls = -1;
    out_in >> word >> word >> calls;  // "handler calls: N"
    std::ifstream err_in(err);
    std::stringstream err_text;
    err_text << err_in.rdbuf();
    EXPECT_EQ(err_text.str().find("dhat: warning: "), std::string::npos) << err_text.str();
    const Profile profile = Profile::load(path);
    EXPECT_EQ(profile.at("loop_site").tbk, 400000U);
    EXPECT_EQ(profile.at("loop_site").eb, 0U);
    EXPECT_GT(calls, 0);
    EXPECT_EQ(static_cast<long>(profile.at("handler_site").tbk), 2 * calls) << err_text.str();  // malloc, realloc
    EXPECT_EQ(profile.at("handler_site").tb, (24U + 40U) * static_cast<std::uint64_t>(calls));
    EXPECT_EQ(profile.at("handler_site").eb, 0U);
    EXPECT_EQ(profile.at("handler_site").ebk, 0U);
    if (!mode.empty()) {
      EXPECT_NE(err_text.str().find("dhat: snapshot saved to "), std::string::npos) << err_text.str();
      std::remove((path + ".snapshot").c_str());
    }
    std::remove(out.c_str());
    std::remove(err.c_str());
  }
}

// A handler's free made while its thread is inside the profiler is held until the thread leaves;
// the block itself is handed back only then. Freed at once, its address went to another
// thread's next block (blocks above the mmap threshold: the kernel hands the hole out again at
// once) before the free was recorded: the new block was taken for the old, and the old one stayed
// live to the end (before: pinned_site left 4 to 105 blocks of 256 KiB live in 4 runs of 5).
// Three runs linked, one switched off under dhat-run.
TEST(Exit, AHandlersFreeInsideTheProfilerKeepsItsAddressUntilItIsRecorded) {
  for (int run = 0; run < 4; ++run) {
    const std::string path = dhat_test::file_for_current_test();
    const std::string out = path + ".stdout";
    const std::string err = path + ".stderr";
    const std::string probe = probe_command(run < 3, DHAT_SIGNAL_PROBE, DHAT_SIGNAL_PROBE_PLAIN, path);
    if (probe.empty()) {
      continue;  // no preload library in this build
    }
    SCOPED_TRACE(probe);
    const int status = std::system(("timeout 120 " + probe + " " + path + " reused >" + out + " 2>" + err).c_str());
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0) << "124: it hung";
    std::ifstream out_in(out);
    std::string word;
    long calls = -1;
    long worker_blocks = -1;
    out_in >> word >> word >> calls >> word >> word >> worker_blocks;  // "handler calls: N", "worker blocks: M"
    std::ifstream err_in(err);
    std::stringstream err_text;
    err_text << err_in.rdbuf();
    EXPECT_EQ(err_text.str().find("dhat: warning: "), std::string::npos) << err_text.str();
    ASSERT_GE(calls, 2000);  // every pinned block freed by the handler
    ASSERT_GT(worker_blocks, 0);
    const Profile profile = Profile::load(path);
    EXPECT_EQ(profile.at("pinned_site").tbk, 2000U + 1000U);  // every other one grown by realloc
    EXPECT_EQ(profile.at("pinned_site").tb, 2000U * 256U * 1024U + 1000U * 320U * 1024U);
    EXPECT_EQ(profile.at("pinned_site").eb, 0U) << "blocks freed by the handler left live";
    EXPECT_EQ(profile.at("reuse_site").tbk, static_cast<std::uint64_t>(worker_blocks));
    EXPECT_EQ(profile.at("reuse_site").eb, 0U);
    EXPECT_EQ(profile.at("loop_site").tbk, 32U * static_cast<std::uint64_t>(worker_blocks));
    EXPECT_EQ(profile.at("loop_site").eb, 0U);
    std::remove(out.c_str());
    std::remove(err.c_str());
  }
}

// A signal that arrives while the profiler itself calls into libc on a program's thread
// (registering the thread's buffer and stack memo with pthread_setspecific, walking the stack
// with libgcc): the thread's signals are blocked there, so the handler runs right after, and its
// allocation and free are recorded. Before, the handler ran inside the profiler's
// ReentrancyGuard: handler_site was missing from the profile (0 of 16 blocks, 0 of 88 with
// libgcc's walks). The probe raises the signal inside its own pthread_setspecific and
// _Unwind_Backtrace, which the profiler's calls reach. Linked, and switched off under dhat-run;
// with the default unwinder and with DHAT_UNWINDER=libgcc.
TEST(Exit, AHandlerThatRunsWhileTheProfilerCallsIntoLibcIsRecorded) {
  constexpr int kThreads = 8;
  for (int run = 0; run < 4; ++run) {
    const std::string path = dhat_test::file_for_current_test();
    const std::string out = path + ".stdout";
    const std::string err = path + ".stderr";
    const std::string probe = probe_command(run % 2 == 0, DHAT_OWN_CALL_PROBE, DHAT_OWN_CALL_PROBE_PLAIN, path);
    if (probe.empty()) {
      continue;  // no preload library in this build
    }
    const std::string unwinder = run < 2 ? "" : "DHAT_UNWINDER=libgcc ";
    SCOPED_TRACE(unwinder + probe);
    const int status = std::system(
        ("timeout 60 env " + unwinder + probe + " " + path + " " + std::to_string(kThreads) + " >" + out + " 2>" + err)
            .c_str());
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    std::ifstream out_in(out);
    std::string word;
    long calls = -1;
    long raised = -1;
    out_in >> word >> word >> calls >> word >> raised;  // "handler calls: N", "raised: R"
    std::ifstream err_in(err);
    std::stringstream err_text;
    err_text << err_in.rdbuf();
    EXPECT_EQ(err_text.str().find("dhat: warning: "), std::string::npos) << err_text.str();
    EXPECT_EQ(calls, raised);
    // With the default unwinder, at least each thread's stack memo (and, where threads buffer their
    // events, its buffer); with libgcc, at least each of its 10 allocations' walks (whether a
    // registration is added depends on the route: 88 on x86-64, 80 under qemu's arm64, unbuffered).
    EXPECT_GE(calls, run < 2 ? kThreads : 10 * kThreads);
    const Profile profile = Profile::load(path);
    // Stacks that pass through handler_site: walks by libgcc (all of them with DHAT_UNWINDER=libgcc;
    // a handler's, whose stack has a signal frame) go through the probe's own _Unwind_Backtrace, a
    // frame outside the profiler's code, so the profiler's frames above it are not trimmed (a
    // program that interposes libgcc's unwinder sees the same).
    const auto handler = Profile::sum(profile.passing_through("handler_site"));
    EXPECT_EQ(static_cast<long>(handler.tbk), calls);
    EXPECT_EQ(handler.tb, 24U * static_cast<std::uint64_t>(calls));
    EXPECT_EQ(handler.ebk, static_cast<std::uint64_t>(kThreads));  // each thread's last block
    EXPECT_EQ(handler.eb, 24U * kThreads);
    const auto worker = Profile::sum(profile.passing_through("worker_site"));  // the same, under libgcc
    EXPECT_EQ(worker.tbk, 10U * kThreads);
    EXPECT_EQ(worker.tb, 1000U * kThreads);
    EXPECT_EQ(worker.eb, 0U);
    std::remove(out.c_str());
    std::remove(err.c_str());
  }
}

TEST(Exit, UnderscoreExitAndAbortWriteNothing) {
  std::remove("underscore-exit.json");
  std::remove("abort.json");
  EXPECT_EQ(run_probe("_exit", "underscore-exit.json").exit_status, 4);
  EXPECT_NE(access("underscore-exit.json", F_OK), 0);
  EXPECT_EQ(run_probe("abort", "abort.json").exit_status, 128 + SIGABRT);  // the shell reports the signal
  EXPECT_NE(access("abort.json", F_OK), 0);
}

TEST(Exit, SummaryHasDhatRsShape) {
  const ProbeResult result = run_probe("return", "summary.json");
  const auto doc = Profile::load("summary.json").doc;
  std::uint64_t tb = 0, tbk = 0, eb = 0, ebk = 0;
  for (const auto& pp : doc["pps"]) {
    tb += pp["tb"].get<std::uint64_t>();
    tbk += pp["tbk"].get<std::uint64_t>();
    eb += pp["eb"].get<std::uint64_t>();
    ebk += pp["ebk"].get<std::uint64_t>();
  }
  EXPECT_NE(result.stderr_text.find("dhat: Total:     " + std::to_string(tb) + " bytes in " + std::to_string(tbk) +
                                    " blocks\n"),
            std::string::npos)
      << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("dhat: At t-end:  " + std::to_string(eb) + " bytes in " + std::to_string(ebk) +
                                    " blocks\n"),
            std::string::npos)
      << result.stderr_text;
}

// ---- The output path is the user's: nothing that is not a regular file is ever replaced ----
// Each case twice: the probe linked with dhat::dhat, and the same probe switched off under
// dhat-run (the preload library).

class Output : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
#ifndef DHAT_RUN
    if (GetParam()) {
      GTEST_SKIP() << "no preload library in this build";
    }
#endif
  }
  // The probe in this test's mode; under dhat-run, FILE is also the profile's name (-o).
  ProbeResult probe(const std::string& mode, const std::string& file, const std::string& shell_first = "",
                    const std::string& stdout_to = "") {
#ifdef DHAT_RUN
    if (GetParam()) {
      return run_probe(mode, file, shell_first + std::string(DHAT_RUN) + " -o '" + file + "' -- ", stdout_to,
                       DHAT_EXIT_PROBE_PLAIN);
    }
#endif
    return run_probe(mode, file, shell_first, stdout_to);
  }
};

INSTANTIATE_TEST_SUITE_P(Modes, Output, ::testing::Values(false, true), [](const ::testing::TestParamInfo<bool>& info) {
  return info.param ? std::string("Preloaded") : std::string("Linked");
});

bool is_kind(const std::string& path, mode_t kind) {
  struct stat status {};
  return lstat(path.c_str(), &status) == 0 && (status.st_mode & S_IFMT) == kind;
}

std::string contents_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A device node (here a copy of /dev/full, made with mknod: root only) is written in place and
// stays a device; its error is the run's. Was: renamed over, /dev/full became a regular file.
TEST_P(Output, ADeviceIsWrittenInPlaceAndStaysADevice) {
  const std::string path = "full-device-" + std::to_string(getpid());
  std::remove(path.c_str());
  if (mknod(path.c_str(), S_IFCHR | 0666, makedev(1, 7)) != 0) {
    GTEST_SKIP() << "cannot make a device node here (needs root): " << std::strerror(errno);
  }
  const ProbeResult result = probe("return", path);
  EXPECT_EQ(result.exit_status, 7);
  EXPECT_TRUE(is_kind(path, S_IFCHR)) << "the device was replaced";
  EXPECT_NE(result.stderr_text.find("could not write the profile to '" + dhat_test::in_current_directory(path) +
                                    "': No space left on device"),
            std::string::npos)
      << result.stderr_text;
  std::remove(path.c_str());
}

// A symbolic link is followed: the file it names gets the profile, the link stays a link. Was:
// the link was replaced by the profile and its target left as it was.
TEST_P(Output, ASymbolicLinkIsFollowedAndStaysALink) {
  const std::string target = "link-target-" + std::to_string(getpid()) + ".json";
  const std::string link = "link-" + std::to_string(getpid()) + ".json";
  std::remove(link.c_str());
  std::ofstream(target) << "an older profile";
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  const ProbeResult result = probe("return", link);
  EXPECT_EQ(result.exit_status, 7);
  EXPECT_TRUE(is_kind(link, S_IFLNK)) << "the link was replaced";
  EXPECT_EQ(Profile::load(target).at("probe_leak").eb, 777U);
  std::remove(link.c_str());
  std::remove(target.c_str());
}

// A FIFO is written in place, to whoever reads it. Was: replaced by a regular file, and its
// reader waited forever.
TEST_P(Output, AFifoIsWrittenToItsReader) {
  const std::string path = "profile-fifo-" + std::to_string(getpid());
  std::remove(path.c_str());
  ASSERT_EQ(mkfifo(path.c_str(), 0644), 0);
  std::string received;
  std::thread reader([&] { received = contents_of(path); });  // open blocks until the writer opens
  const ProbeResult result = probe("return", path);
  reader.join();
  EXPECT_EQ(result.exit_status, 7);
  EXPECT_TRUE(is_kind(path, S_IFIFO)) << "the FIFO was replaced";
  ASSERT_TRUE(nlohmann::json::accept(received)) << received.substr(0, 200);
  const std::string copy = path + ".received.json";
  std::ofstream(copy) << received;
  EXPECT_EQ(Profile::load(copy).at("probe_leak").eb, 777U);
  std::remove(copy.c_str());
  std::remove(path.c_str());
}

TEST_P(Output, AFifoWithoutAReaderIsAnErrorNotAHang) {
  const std::string path = "lonely-fifo-" + std::to_string(getpid());
  std::remove(path.c_str());
  ASSERT_EQ(mkfifo(path.c_str(), 0644), 0);
  const ProbeResult result = probe("return", path);
  EXPECT_EQ(result.exit_status, 7);
  EXPECT_TRUE(is_kind(path, S_IFIFO));
  EXPECT_NE(result.stderr_text.find("nothing is reading from it"), std::string::npos) << result.stderr_text;
  std::remove(path.c_str());
}

// /dev/stdout means the program's standard output, wherever it goes (here a file).
TEST_P(Output, DevStdoutIsTheProgramsStandardOutput) {
  const std::string out = "stdout-" + std::to_string(getpid()) + ".json";
  std::remove(out.c_str());
  const ProbeResult result = probe("return", "/dev/stdout", "", out);
  EXPECT_EQ(result.exit_status, 7);
  EXPECT_TRUE(is_kind("/dev/stdout", S_IFLNK));
  EXPECT_EQ(Profile::load(out).at("probe_leak").eb, 777U);
  EXPECT_NE(result.stderr_text.find("The data has been saved to /dev/stdout"), std::string::npos) << result.stderr_text;
  std::remove(out.c_str());
}

// A relative name means the directory the run started in, even after the program changed
// directory (a program that chdirs, `git -C DIR`); messages name it in full.
TEST_P(Output, ARelativeNameIsWhereTheRunStarted) {
  const std::string path = "chdir-" + std::to_string(getpid()) + ".json";
  std::remove(path.c_str());
  const ProbeResult result = probe("chdir", path);
  EXPECT_EQ(result.exit_status, 7);
  EXPECT_EQ(Profile::load(path).at("probe_leak").eb, 777U);
  EXPECT_NE(access((path + ".elsewhere/" + path).c_str(), F_OK), 0) << "written in the new directory";
  EXPECT_NE(result.stderr_text.find("saved to " + dhat_test::in_current_directory(path)), std::string::npos)
      << result.stderr_text;
  std::remove(path.c_str());
  rmdir((path + ".elsewhere").c_str());
}

// A program that ends with every descriptor in use still gets its profile (one is kept in
// reserve), with its frames named when the limit can be raised for the report.
TEST_P(Output, AProgramWithNoDescriptorLeftGetsItsProfile) {
  const std::string path = "no-fds-" + std::to_string(getpid()) + ".json";
  std::remove(path.c_str());
  const ProbeResult result = probe("no-fds", path, "ulimit -S -n 256; ");
  EXPECT_EQ(result.exit_status, 7);
  const Profile profile = Profile::load(path);
  EXPECT_EQ(profile.at("probe_leak").eb, 777U);
  EXPECT_NE(profile.doc["cmd"].get<std::string>().find("no-fds"), std::string::npos);
  std::remove(path.c_str());
}

// Threads with 16-28 KiB stacks start and are recorded (the profiler's TLS was 18 KiB).
// The profiler's own threads (the snapshot writer, the report's) block every asynchronous
// signal: a process-directed signal that every program thread blocks stays pending, as in the
// plain program, instead of running the program's handler on a thread of the profiler's.
TEST_P(Output, TheProfilersThreadsNeverTakeTheProgramsSignals) {
  const std::string path = "blocked-signal-" + std::to_string(getpid()) + ".json";
  std::remove(path.c_str());
  const ProbeResult result = probe("blocked-signal", path, "DHAT_SNAPSHOT_SIGNAL=USR2 ");
  EXPECT_EQ(result.exit_status, 7) << result.stderr_text;
  EXPECT_EQ(result.stderr_text.find("probe: the SIGALRM handler ran"), std::string::npos) << result.stderr_text;
  EXPECT_EQ(Profile::load(path).at("probe_leak").tbk, 1U);
  std::remove(path.c_str());
}

// Snapshots on a signal while threads allocate: nothing is lost, no false alarm (the linked
// API's case is Exit.SnapshotsFromThreadsLoseNothingAndRaiseNoAlarm).
TEST_P(Output, SnapshotsOnASignalWhileThreadsAllocateLoseNothingAndRaiseNoAlarm) {
  const std::string path = "signal-snapshots-" + std::to_string(getpid()) + ".json";
  std::remove(path.c_str());
  const ProbeResult result = probe("signal-snapshots", path, "DHAT_SNAPSHOT_SIGNAL=USR2 ");
  EXPECT_EQ(result.exit_status, 7) << result.stderr_text;
  EXPECT_EQ(result.stderr_text.find("dhat: warning"), std::string::npos) << result.stderr_text;
  const std::string said = "dhat: snapshot saved to ";
  const std::size_t at = result.stderr_text.find(said);
  ASSERT_NE(at, std::string::npos) << result.stderr_text;
  const std::size_t from = at + said.size();
  const std::string snapshot = result.stderr_text.substr(from, result.stderr_text.find('\n', from) - from);
  EXPECT_LE(Profile::load(snapshot).at("probe_leak").tbk, 1U + 40000U);
  const auto site = Profile::load(path).at("probe_leak");
  EXPECT_EQ(site.tbk, 1U + 40000U);
  EXPECT_EQ(site.eb, 777U);
  std::remove(snapshot.c_str());
  std::remove(path.c_str());
}

#ifdef DHAT_RUN
// A thread that made a few events and is parked holds a few KiB for the profiler, linked and
// preloaded (was about 292 KiB of resident memory per live thread).
TEST_P(Output, AParkedThreadHoldsAFewKibForTheProfiler) {
  const std::string path = "parked-" + std::to_string(getpid()) + ".json";
  const auto kib_of = [](const std::string& out) {
    std::ifstream in(out);
    long kib = -1;
    in >> kib;
    std::remove(out.c_str());
    return kib;
  };
  const std::string plain_out = path + ".plain", profiled_out = path + ".profiled";
  const ProbeResult plain = run_probe("parked-threads", path, "", plain_out, DHAT_EXIT_PROBE_PLAIN);
  const ProbeResult profiled = probe("parked-threads", path, "", profiled_out);
  EXPECT_EQ(plain.exit_status, 7) << plain.stderr_text;
  EXPECT_EQ(profiled.exit_status, 7) << profiled.stderr_text;
  const long plain_kib = kib_of(plain_out), profiled_kib = kib_of(profiled_out);
  ASSERT_GE(plain_kib, 0);
  ASSERT_GE(profiled_kib, 0);
  std::printf("resident memory per parked thread: %ld KiB plain, %ld KiB profiled\n", plain_kib, profiled_kib);
  EXPECT_LE(profiled_kib - plain_kib, dhat_test::parked_thread_allowance_kib())
      << "KiB per parked thread held for the profiler";
  EXPECT_EQ(Profile::load(path).at("parked_site").tbk, 1U + 201U * 20U);  // the warm-up thread too
  std::remove(path.c_str());
}
#endif

TEST_P(Output, ThreadsWithSmallStacksStartAndAreRecorded) {
  const std::string path = "small-stacks-" + std::to_string(getpid()) + ".json";
  std::remove(path.c_str());
  const ProbeResult result = probe("small-stacks", path);
  EXPECT_EQ(result.exit_status, 7) << result.stderr_text;
  const auto site = Profile::load(path).at("probe_leak");
  EXPECT_EQ(site.tbk, 1U + 40U);
  EXPECT_EQ(site.tb, 777U + 40 * 64U);
  std::remove(path.c_str());
}

}  // namespace
