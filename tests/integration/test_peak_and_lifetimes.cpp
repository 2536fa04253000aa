// The global peak (t-gmax) and each program point's share of it, leaks at t-end, lifetimes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "profiled_run.hpp"

using dhat_test::keep;
using dhat_test::profile_of;

namespace {

#define SITE extern "C" __attribute__((noinline))
SITE void* peak_a(std::size_t n) { return std::malloc(n); }
SITE void* peak_b(std::size_t n) { return std::malloc(n); }
SITE void* peak_c(std::size_t n) { return std::malloc(n); }
SITE void* peak_d(std::size_t n) { return std::malloc(n); }
SITE void* tie_x(std::size_t n) { return std::malloc(n); }
SITE void* tie_y(std::size_t n) { return std::malloc(n); }
SITE void* grow_step(std::size_t n) { return std::malloc(n); }
SITE void* long_lived(std::size_t n) { return std::malloc(n); }
SITE void* short_lived(std::size_t n) { return std::malloc(n); }
SITE void* leaked(std::size_t n) { return std::malloc(n); }
#undef SITE

TEST(Peak, KnownPeakInTheMiddleOfTheRun) {
  void* leak = nullptr;
  auto profile = profile_of([&] {
    void* a = peak_a(1000);
    void* b = peak_b(5000);  // live 6000
    std::free(a);            // live 5000
    void* c = peak_c(2000);  // live 7000: the global peak
    std::free(b);            // live 2000
    leak = peak_d(3000);     // live 5000
    std::free(c);            // live 3000
  });
  std::free(leak);
  const auto& doc = profile.doc;
  const auto a = profile.at("peak_a");
  const auto b = profile.at("peak_b");
  const auto c = profile.at("peak_c");
  const auto d = profile.at("peak_d");
  // The peak is 7000 bytes: b and c live together.
  EXPECT_EQ(a.gb, 0U);
  EXPECT_EQ(b.gb, 5000U);
  EXPECT_EQ(b.gbk, 1U);
  EXPECT_EQ(c.gb, 2000U);
  EXPECT_EQ(c.gbk, 1U);
  EXPECT_EQ(d.gb, 0U);
  EXPECT_EQ(a.mb, 1000U);
  EXPECT_EQ(b.mb, 5000U);
  EXPECT_EQ(c.mb, 2000U);
  EXPECT_EQ(d.mb, 3000U);
  EXPECT_EQ(d.eb, 3000U);
  EXPECT_EQ(d.ebk, 1U);
  EXPECT_EQ(a.eb + b.eb + c.eb, 0U);
  EXPECT_LE(doc["tg"].get<std::uint64_t>(), doc["te"].get<std::uint64_t>());
}

TEST(Peak, LatestOfEqualPeaksWins) {
  auto profile = profile_of([] {
    void* x = tie_x(4096);
    std::free(x);
    void* y = tie_y(4096);  // the same heap size again: this is t-gmax
    std::free(y);
  });
  EXPECT_EQ(profile.at("tie_x").gb, 0U);
  EXPECT_EQ(profile.at("tie_y").gb, 4096U);
}

TEST(Peak, GrowingHeapWithANewPeakBeforeEveryFree) {
  auto profile = profile_of([] {
    void* previous = grow_step(16);
    for (std::size_t size = 32; size <= 16000; size += 16) {
      void* next = grow_step(size);  // new peak: previous + next
      std::free(previous);
      previous = next;
    }
    std::free(previous);
  });
  // Two program points: the first call and the loop's call.
  const auto step = profile.at("grow_step");
  EXPECT_EQ(step.count, 2U);
  EXPECT_EQ(step.tbk, 1000U);
  EXPECT_EQ(step.gb, 16U * 999 + 16U * 1000);  // the last two blocks together, both from the loop
  EXPECT_EQ(step.gbk, 2U);
  EXPECT_EQ(step.eb, 0U);
  std::uint64_t loop_mb = 0;
  for (const auto& pp : profile.allocated_in("grow_step")) {
    loop_mb = std::max<std::uint64_t>(loop_mb, pp["mb"].get<std::uint64_t>());
  }
  EXPECT_EQ(loop_mb, 16U * 999 + 16U * 1000);
}

TEST(Lifetimes, LongShortAndLeakedBlocks) {
  void* leak = nullptr;
  auto profile = profile_of([&] {
    void* l = long_lived(64);
    usleep(50 * 1000);
    std::free(l);
    for (int i = 0; i < 100; ++i) {
      void* s = short_lived(8);
      keep(s);
      std::free(s);
    }
    leak = leaked(128);
    usleep(30 * 1000);
  });
  std::free(leak);
  const auto te = profile.doc["te"].get<std::uint64_t>();
  const auto long_site = profile.at("long_lived");
  EXPECT_GE(long_site.tl, 50U * 1000);
  EXPECT_LT(long_site.tl, te);
  const auto short_site = profile.at("short_lived");
  EXPECT_EQ(short_site.tbk, 100U);
  EXPECT_LT(short_site.tl, 100U * 1000);  // 100 blocks that live microseconds each
  const auto leaked_site = profile.at("leaked");
  EXPECT_GE(leaked_site.tl, 30U * 1000);  // a leak lives until t-end
  EXPECT_LE(leaked_site.tl, te);
  EXPECT_GE(te, 80U * 1000);
}

}  // namespace
