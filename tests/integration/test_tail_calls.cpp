// Frames that tail calls would take away (tail_call_probe.cpp, built at -O2 twice: with
// dhat_keep_tail_call_frames() and without).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "profile_reader.hpp"

namespace {

dhat_test::Profile run_probe(const char* probe, const std::string& mode) {
  const std::string file =
      std::string("tail-") + (probe == std::string(DHAT_TAIL_CALL_PROBE_KEPT) ? "kept-" : "plain-") + mode + ".json";
  std::remove(file.c_str());
  const int status = std::system((std::string(probe) + " " + mode + " " + file + " 2>/dev/null").c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << probe;
  return dhat_test::Profile::load(file);
}

// probe_event's last statement is dhat::ad_hoc_event(10), in an unrolled loop of eight: every
// event's stack starts at probe_event (it was missing, and the unrolled copies showed the same
// call site with and without it), with or without the opt-in.
TEST(TailCalls, TheLibrarysOwnEntryPointNeverDropsItsCallersFrame) {
  for (const char* probe : {DHAT_TAIL_CALL_PROBE_PLAIN, DHAT_TAIL_CALL_PROBE_KEPT}) {
    const dhat_test::Profile profile = run_probe(probe, "ad-hoc");
    const auto events = dhat_test::Profile::sum(profile.allocated_in("probe_event"));
    EXPECT_EQ(events.tbk, 8U) << probe;  // ad hoc: tbk counts events, tb their units
    EXPECT_EQ(events.tb, 80U) << probe;
    std::uint64_t all_events = 0;
    for (const auto& pp : profile.doc["pps"]) {
      all_events += pp["tbk"].get<std::uint64_t>();
    }
    EXPECT_EQ(all_events, 8U) << probe;
  }
}

// probe_block is `return malloc(100)`: at -O2 a jump, so without the opt-in its blocks are
// charged to main; with dhat_keep_tail_call_frames() to probe_block itself.
TEST(TailCalls, AProgramsOwnTailCallsKeepTheirFrameOnlyWhenAsked) {
  const dhat_test::Profile kept = run_probe(DHAT_TAIL_CALL_PROBE_KEPT, "heap");
  EXPECT_EQ(kept.at("probe_block").tbk, 8U);
  EXPECT_EQ(kept.at("probe_block").tb, 800U);
  EXPECT_EQ(kept.at("main").tbk, 0U);

  const dhat_test::Profile plain = run_probe(DHAT_TAIL_CALL_PROBE_PLAIN, "heap");
  EXPECT_EQ(plain.at("probe_block").tbk, 0U) << "the jump left no probe_block frame";
  EXPECT_EQ(plain.at("main").tbk, 8U);
  EXPECT_EQ(plain.at("main").tb, 800U);
}

}  // namespace
