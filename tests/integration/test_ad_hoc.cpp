// Ad hoc mode: events by call stack, DHAT's ad hoc fields, AdHocStats, and no heap recording.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "profiled_run.hpp"

using dhat_test::keep;
using dhat_test::Profile;

namespace {

extern "C" __attribute__((noinline)) void event_site_a(std::uint64_t weight) { dhat::ad_hoc_event(weight); }
extern "C" __attribute__((noinline)) void event_site_b(std::uint64_t weight) { dhat::ad_hoc_event(weight); }
extern "C" __attribute__((noinline)) void* heap_site_in_ad_hoc(std::size_t n) { return std::malloc(n); }

TEST(AdHoc, EventsByStackWithDhatsAdHocFields) {
  std::remove("dhat-ad-hoc.json");
  dhat::AdHocStats during;
  dhat::HeapStats heap_during;
  testing::internal::CaptureStderr();
  {
    dhat::Profiler profiler = dhat::Profiler::builder().ad_hoc().build();  // default file name
    for (int i = 0; i < 3; ++i) {
      event_site_a(10);
    }
    event_site_b(5);
    void* block = heap_site_in_ad_hoc(1000);  // not recorded in ad hoc mode
    keep(block);
    std::free(block);
    during = dhat::AdHocStats::get();
    heap_during = dhat::HeapStats::get();
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(during.total_events, 4U);
  EXPECT_EQ(during.total_units, 35U);
  EXPECT_EQ(heap_during.total_blocks, 0U);
  EXPECT_NE(err.find("dhat: Total:     35 units in 4 events\n"), std::string::npos) << err;
  EXPECT_NE(err.find("saved to " + dhat_test::in_current_directory("dhat-ad-hoc.json")), std::string::npos) << err;

  const Profile profile = Profile::load("dhat-ad-hoc.json");
  EXPECT_EQ(profile.doc["mode"], "cpp-ad-hoc");
  EXPECT_EQ(profile.doc["bklt"], false);
  EXPECT_EQ(profile.doc["bkacc"], false);
  EXPECT_EQ(profile.doc["bu"], "unit");
  EXPECT_EQ(profile.doc["bsu"], "units");
  EXPECT_EQ(profile.doc["bksu"], "events");
  EXPECT_FALSE(profile.doc.contains("tg"));
  const auto a = profile.at("event_site_a");
  EXPECT_EQ(a.tb, 30U);
  EXPECT_EQ(a.tbk, 3U);
  const auto b = profile.at("event_site_b");
  EXPECT_EQ(b.tb, 5U);
  EXPECT_EQ(b.tbk, 1U);
  EXPECT_EQ(profile.at("heap_site_in_ad_hoc").count, 0U);
  // Only the two event sites (the unrolled loop may give site a several call sites).
  EXPECT_EQ(profile.doc["pps"].size(), a.count + b.count);
}

TEST(AdHoc, EventsOutsideAnAdHocProfilerDoNothing) {
  event_site_a(7);  // no profiler at all
  auto profile = dhat_test::profile_of([] {
    event_site_a(7);  // a heap profiler
    EXPECT_EQ(dhat::AdHocStats::get().total_events, 0U);
  });
  EXPECT_EQ(profile.at("event_site_a").count, 0U);
}

}  // namespace
