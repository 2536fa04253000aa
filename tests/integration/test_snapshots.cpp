// Snapshots of a running profile: the API call and the opt-in signal write the state as it is
// now (t-end = now) and the run goes on.
#include <glob.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "profiled_run.hpp"

using dhat_test::keep;
using dhat_test::Profile;

namespace {

extern "C" __attribute__((noinline)) void* snapshot_site(std::size_t n) { return std::malloc(n); }
extern "C" __attribute__((noinline)) void* after_snapshot_site(std::size_t n) { return std::malloc(n); }

TEST(Snapshots, ApiCallWritesTheCurrentStateAndTheRunGoesOn) {
  std::remove("snapshot-api.json");
  bool written = false;
  auto final_profile = dhat_test::profile_of([&] {
    void* block = snapshot_site(777);
    keep(block);
    written = dhat::write_snapshot("snapshot-api.json");
    std::free(block);
    std::free(after_snapshot_site(55));
  });
  ASSERT_TRUE(written);
  const Profile snapshot = Profile::load("snapshot-api.json");
  EXPECT_EQ(snapshot.at("snapshot_site").eb, 777U);
  EXPECT_EQ(snapshot.at("snapshot_site").ebk, 1U);
  EXPECT_EQ(snapshot.at("after_snapshot_site").count, 0U);
  EXPECT_LE(snapshot.doc["te"].get<std::uint64_t>(), final_profile.doc["te"].get<std::uint64_t>());
  EXPECT_EQ(final_profile.at("snapshot_site").eb, 0U);
  EXPECT_EQ(final_profile.at("after_snapshot_site").tb, 55U);
}

// Three threads writing snapshots to one path while a fourth reads it: every write succeeds and
// every read finds a whole profile (each write has its own temporary file; with one shared
// name, one write truncated another's and renamed torn JSON into place, and the other's rename
// failed with ENOENT).
TEST(Snapshots, ThreadsWritingToOnePathEachWriteAWholeFile) {
  const char* path = "snapshot-shared.json";
  std::remove(path);
  constexpr int kWriters = 3;
  constexpr int kWrites = 30;
  std::atomic<int> failed_writes{0};
  std::atomic<int> torn_reads{0};
  std::atomic<int> whole_reads{0};
  std::atomic<bool> writing{true};
  dhat_test::profile_of([&] {
    void* block = snapshot_site(4242);
    keep(block);
    std::thread reader([&] {
      while (writing.load()) {
        std::ifstream in(path);
        if (!in) {
          continue;  // not written yet
        }
        std::stringstream text;
        text << in.rdbuf();
        (nlohmann::json::accept(text.str()) ? whole_reads : torn_reads).fetch_add(1);
      }
    });
    std::vector<std::thread> writers;
    writers.reserve(kWriters);
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&] {
        for (int i = 0; i < kWrites; ++i) {
          if (!dhat::write_snapshot(path)) {
            failed_writes.fetch_add(1);
          }
        }
      });
    }
    for (std::thread& writer : writers) {
      writer.join();
    }
    writing.store(false);
    reader.join();
    std::free(block);
  });
  EXPECT_EQ(failed_writes.load(), 0);
  EXPECT_EQ(torn_reads.load(), 0) << whole_reads.load() << " whole reads";
  const Profile last = Profile::load(path);
  EXPECT_EQ(last.at("snapshot_site").eb, 4242U);
  glob_t left{};
  EXPECT_EQ(glob("snapshot-shared.json.tmp.*", 0, nullptr, &left), GLOB_NOMATCH) << "a temporary file was left";
  globfree(&left);
}

// Requests that keep coming without a profiler (a loop; snapshot signals still queued at exit,
// 157 lines in one run before) are told once.
TEST(Snapshots, WithoutAProfilerNothingIsWrittenAndTheUserIsToldOnce) {
  testing::internal::CaptureStderr();
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(dhat::write_snapshot("never.json"));
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "dhat: no profiler is running; no snapshot written\n");
  EXPECT_NE(access("never.json", F_OK), 0);
}

TEST(Snapshots, OptInSignalWritesASnapshot) {
  setenv("DHAT_SNAPSHOT_SIGNAL", "SIGUSR2", 1);
  const std::string path = "dhat-snapshot." + std::to_string(getpid()) + ".json";
  std::remove(path.c_str());
  bool appeared = false;
  auto final_profile = dhat_test::profile_of([&] {
    void* block = snapshot_site(4242);
    keep(block);
    raise(SIGUSR2);
    for (int i = 0; i < 500 && !appeared; ++i) {
      appeared = access(path.c_str(), F_OK) == 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the rename finish
    std::free(block);
  });
  ASSERT_TRUE(appeared) << "no " << path << " within 10 s of the signal";
  const Profile snapshot = Profile::load(path);
  EXPECT_EQ(snapshot.at("snapshot_site").eb, 4242U);
  EXPECT_EQ(final_profile.at("snapshot_site").eb, 0U);
}

}  // namespace
