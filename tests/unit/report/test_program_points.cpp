// From raw program points to DHAT's: frames trimmed below main, inlined frames expanded, frame
// table shared, each address symbolized once, stacks that become equal merged.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fake_symbolizer.hpp"
#include "report/program_points.hpp"

using namespace dhat::report;
using dhat_test::FakeSymbolizer;

namespace {

TEST(ProgramPoints, FramesAreTrimmedExpandedAndShared) {
  FakeSymbolizer symbolizer;
  RawProgramPoints raw;
  raw.add(PpTotals{10}, {0x30, 0x90, 0x99});
  raw.add(PpTotals{20}, {0x40, 0x30, 0x90, 0x99});
  raw.add(PpTotals{40}, {0x50, 0xC0});
  const ProgramPoints points = build_program_points(raw, symbolizer);
  ASSERT_EQ(points.pps.size(), 3U);
  EXPECT_EQ(points.ftbl[0], "[root]");
  std::vector<std::string> first;
  for (const FrameId* id = points.frames_begin(points.pps[0]); id != points.frames_end(points.pps[0]); ++id) {
    EXPECT_NE(*id, 0U);
    first.push_back(points.ftbl[*id]);
  }
  EXPECT_EQ(first,
            (std::vector<std::string>{"0x2F: inner (a.cpp:3)", "0x2F: outer (a.cpp:30)", "0x8F: main (main.cpp:9)"}));
  EXPECT_EQ(points.pps[1].frame_count, 4U);
  EXPECT_EQ(points.ftbl[*points.frames_begin(points.pps[1])], "0x3F: f64 (in /lib/x.so)");
  EXPECT_EQ(points.pps[2].frame_count, 1U);  // start_thread and below dropped
  EXPECT_EQ(symbolizer.calls[0x30], 1);      // each address is resolved once, however many stacks share it
  EXPECT_EQ(points.ftbl.size(), 1U + 3U + 1U + 1U);
}

TEST(ProgramPoints, StacksThatBecomeEqualAreMerged) {
  FakeSymbolizer symbolizer;
  RawProgramPoints raw;
  raw.add(PpTotals{1, 1, 5, 1, 1, 1, 1, 0, 0}, {0x30, 0x90, 0x99});
  raw.add(PpTotals{2, 1, 7, 2, 1, 0, 0, 2, 1}, {0x30, 0x90});  // differs only below main
  const ProgramPoints points = build_program_points(raw, symbolizer);
  ASSERT_EQ(points.pps.size(), 1U);
  EXPECT_EQ(points.merged, 1U);
  const PpTotals& t = points.pps[0].totals;
  EXPECT_EQ(t.tb, 3U);
  EXPECT_EQ(t.tbk, 2U);
  EXPECT_EQ(t.tl, 12U);
  EXPECT_EQ(t.gb, 1U);
  EXPECT_EQ(t.eb, 2U);
}

TEST(ProgramPoints, ThousandsOfStacksMergeByTheirFrames) {
  // 3,000 raw stacks over 1,000 distinct frame lists: the index grows past its first size.
  FakeSymbolizer symbolizer;
  RawProgramPoints raw;
  for (std::size_t i = 0; i < 3000; ++i) {
    raw.add(PpTotals{i, 1}, {0x1000 + i % 1000, 0x90, 0x99 + i});  // below main: dropped
  }
  const ProgramPoints points = build_program_points(raw, symbolizer);
  ASSERT_EQ(points.pps.size(), 1000U);
  EXPECT_EQ(points.merged, 2000U);
  for (std::size_t k = 0; k < 1000; ++k) {
    EXPECT_EQ(points.pps[k].totals.tb, k + (k + 1000) + (k + 2000)) << k;
    EXPECT_EQ(points.pps[k].totals.tbk, 3U) << k;
  }
}

}  // namespace
