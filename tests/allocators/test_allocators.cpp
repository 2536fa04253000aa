// Programs on their own allocator: allocator_probe.cpp run linked with the allocator and
// dhat::dhat, linked with the allocator alone under dhat-run, and knowing no allocator under
// dhat-run with the allocator in LD_PRELOAD; one thread and four. Each run's profile has exact
// numbers per site (its own entry points' included, each allocation once, blocks crossing from
// one family of functions to the other freed once), and the allocator's own statistics say that
// it served the peak's blocks (jemalloc's stats.allocated, tcmalloc's
// generic.current_allocated_bytes, mimalloc's mi_is_in_heap_region).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <string>

#include "profile_reader.hpp"

namespace {

struct Allocator {
  const char* name;
  const char* family;  // what the probe's proof names
  const char* library;
  const char* linked;  // the probe linked with the allocator and dhat::dhat ("" when not built)
  const char* plain;   // the probe linked with the allocator alone
  bool has_native;     // the probe calls the allocator's own entry points
};

#ifndef DHAT_JEMALLOC_LINKED
#define DHAT_JEMALLOC_LINKED ""
#define DHAT_JEMALLOC_PLAIN ""
#endif
#ifndef DHAT_TCMALLOC_LINKED
#define DHAT_TCMALLOC_LINKED ""
#define DHAT_TCMALLOC_PLAIN ""
#endif
#ifndef DHAT_TCMALLOC_MINIMAL_LINKED
#define DHAT_TCMALLOC_MINIMAL_LINKED ""
#define DHAT_TCMALLOC_MINIMAL_PLAIN ""
#endif
#ifndef DHAT_MIMALLOC_LINKED
#define DHAT_MIMALLOC_LINKED ""
#define DHAT_MIMALLOC_PLAIN ""
#endif

const Allocator kAllocators[] = {
    {"jemalloc", "jemalloc", DHAT_JEMALLOC_LIBRARY, DHAT_JEMALLOC_LINKED, DHAT_JEMALLOC_PLAIN, true},
    {"tcmalloc", "tcmalloc", DHAT_TCMALLOC_LIBRARY, DHAT_TCMALLOC_LINKED, DHAT_TCMALLOC_PLAIN, true},
    {"tcmalloc_minimal", "tcmalloc", DHAT_TCMALLOC_MINIMAL_LIBRARY, DHAT_TCMALLOC_MINIMAL_LINKED,
     DHAT_TCMALLOC_MINIMAL_PLAIN, true},
    {"mimalloc", "mimalloc", DHAT_MIMALLOC_LIBRARY, DHAT_MIMALLOC_LINKED, DHAT_MIMALLOC_PLAIN, true},
};

enum class Mode { linked, dhat_run, preloaded_allocator };

struct Case {
  const Allocator* allocator;
  Mode mode;
  std::size_t threads;
};

void PrintTo(const Case& c, std::ostream* out) { *out << c.allocator->name << ", " << c.threads << " threads"; }

std::string name_of(const testing::TestParamInfo<Case>& info) {
  const char* mode = info.param.mode == Mode::linked     ? "Linked"
                     : info.param.mode == Mode::dhat_run ? "DhatRun"
                                                         : "LdPreloadAndDhatRun";
  return std::string(info.param.allocator->name) + "_" + mode + "_" + std::to_string(info.param.threads) + "Threads";
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (const Allocator& allocator : kAllocators) {
    for (Mode mode : {Mode::linked, Mode::dhat_run, Mode::preloaded_allocator}) {
      for (std::size_t threads : {1, 4}) {
        cases.push_back(Case{&allocator, mode, threads});
      }
    }
  }
  return cases;
}

struct Output {
  int status = -1;
  std::string out;  // standard output only (dhat's own lines go to stderr)
};

Output run(const std::string& command) {
  Output result;
  FILE* pipe = popen(command.c_str(), "r");
  char buffer[4096];
  std::size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    result.out.append(buffer, n);
  }
  const int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

constexpr std::size_t kRounds = 200;

class OwnAllocator : public testing::TestWithParam<Case> {};

TEST_P(OwnAllocator, ExactNumbersPerSiteAndTheAllocatorServedTheBlocks) {
  const Case& c = GetParam();
  const Allocator& a = *c.allocator;
  if (std::string(a.library).empty()) {
    GTEST_SKIP() << "skipped: lib" << a.name << " is not installed (Debian: libjemalloc-dev, "
                 << "libgoogle-perftools-dev, libmimalloc-dev)";
  }
  const std::string file = name_of(testing::TestParamInfo<Case>(c, 0)) + ".json";
  std::remove(file.c_str());
  const std::string arguments = " " + file + " " + std::to_string(c.threads) + " " + std::to_string(kRounds);
  std::string command;
  bool native = false;
  switch (c.mode) {
    case Mode::linked:
      command = std::string(a.linked) + arguments;
      native = a.has_native;
      break;
    case Mode::dhat_run:
      command = std::string(DHAT_RUN) + " -o " + file + " -- " + a.plain + arguments;
      native = a.has_native;
      break;
    case Mode::preloaded_allocator:
      command = "LD_PRELOAD=" + std::string(a.library) + " " + DHAT_RUN + " -o " + file + " -- " + DHAT_PROBE_NONE +
                arguments;
      break;
  }
  const Output output = run(command + " 2>/dev/null");
  ASSERT_EQ(output.status, 0) << command << "\n" << output.out;

  // The allocator served the peak's 4 MiB: it says each block is its own, its statistics grew by
  // about as much (within its thread caches' slack), and its malloc_usable_size answered for them.
  char family[32] = {};
  unsigned long long owned = 0, of = 0, grew = 0;
  ASSERT_EQ(std::sscanf(output.out.c_str(), "proof: %31[^ ] %llu of %llu, statistics grew by %llu", family, &owned, &of,
                        &grew),
            4)
      << output.out;
  EXPECT_EQ(std::string(family), a.family) << output.out;
  EXPECT_EQ(owned, of) << a.name << " does not own the blocks: " << output.out;
  if (std::string(a.family) != "mimalloc") {  // mimalloc keeps no such count
    EXPECT_GE(grew, of * 9 / 10) << a.name << "'s statistics did not see the blocks: " << output.out;
  }

  const dhat_test::Profile profile = dhat_test::Profile::load(file);
  const std::size_t t = c.threads, r = kRounds;
  struct Expected {
    const char* site;
    std::uint64_t tb, tbk, gb, eb;
  };
  std::vector<Expected> expected = {
      {"probe_kept", t * 1000, t * 10, t * 1000, t * 1000},
      {"probe_malloc", t * r * (native ? 1500 : 1000), t * r * (native ? 2 : 1), 0, 0},
      {"probe_calloc", t * r * 200, t * r, 0, 0},
      {"probe_realloc", t * r * 120, t * r * 2, 0, 0},
      {"probe_aligned", t * r * 128, t * r, 0, 0},
      {"probe_new", t * r * 64, t * r, 0, 0},  // once each, whoever's operator new is next
      {"probe_peak", std::uint64_t{64} * 65536, 64, std::uint64_t{64} * 65536, 0},
  };
  if (native) {
    expected.push_back({"probe_native", t * r * 500, t * r * 3, 0, 0});  // 300, and 50 grown to 150
    expected.push_back({"probe_native_aligned", t * r * 256, t * r, 0, 0});
    // malloc's blocks through the allocator's own API: 64, grown to 128, resized to 96 (each a
    // block of the site's in DHAT's rules: realloc is charged to the block's first site).
    expected.push_back({"probe_mixed", t * r * (64 + 128 + 96), t * r * 3, 0, 0});
  }
  for (const Expected& e : expected) {
    const auto n = dhat_test::Profile::sum(profile.allocated_in(e.site));
    EXPECT_EQ(n.tb, e.tb) << e.site;
    EXPECT_EQ(n.tbk, e.tbk) << e.site;
    EXPECT_EQ(n.gb, e.gb) << e.site;
    EXPECT_EQ(n.eb, e.eb) << e.site;
  }
}

INSTANTIATE_TEST_SUITE_P(Allocators, OwnAllocator, testing::ValuesIn(all_cases()), name_of);

}  // namespace
