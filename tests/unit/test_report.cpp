// The report pieces without a process to symbolize: frame table, trimming, merging, JSON,
// summary, settings parsing, atomic writes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>

#include "format/numbers.hpp"
#include "runtime/settings.hpp"
#include "report/dhat_json.hpp"
#include "report/summary.hpp"

using namespace dhat::report;
using dhat::format::with_commas;

namespace {

// Addresses map to made-up functions; 0x30 is an inlined pair, 0x90 is main, 0x99 below it.
class FakeSymbolizer final : public Symbolizer {
 public:
  std::vector<Frame> resolve(std::uintptr_t address) override {
    ++calls[address];
    if (address == 0x30) {
      return {Frame{0x2F, "inner", "a.cpp", 3, "prog"}, Frame{0x2F, "outer", "a.cpp", 30, "prog"}};
    }
    if (address == 0x90) {
      return {Frame{0x8F, "main", "main.cpp", 9, "prog"}};
    }
    if (address == 0x99) {
      return {Frame{0x98, "__libc_start_call_main", "", 0, "libc.so.6"}};
    }
    if (address == 0xC0) {
      return {Frame{0xBF, "start_thread", "", 0, "libc.so.6"}};
    }
    return {Frame{address - 1, "f" + std::to_string(address), "", 0, "/lib/x.so"}};
  }
  std::map<std::uintptr_t, int> calls;
};

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

TEST(DhatJson, HasEveryFieldTheViewerChecks) {
  FakeSymbolizer symbolizer;
  RawProgramPoints raw;
  raw.add(PpTotals{100, 2, 50, 100, 2, 60, 1, 40, 1}, {0x30});
  ProfileHeader header;
  header.cmd = "prog \"quoted\" arg";
  header.pid = 42;
  header.tg_us = 7;
  header.te_us = 9;
  const auto doc = nlohmann::json::parse(to_dhat_json(header, build_program_points(raw, symbolizer)));
  for (const char* key : {"dhatFileVersion", "mode", "verb", "bklt", "bkacc", "tu", "Mtu", "cmd", "pid", "te", "pps",
                          "ftbl", "tg", "tuth"}) {
    EXPECT_TRUE(doc.contains(key)) << key;
  }
  EXPECT_EQ(doc["dhatFileVersion"], 2);
  EXPECT_EQ(doc["bklt"], true);
  EXPECT_EQ(doc["bkacc"], false);
  EXPECT_EQ(doc["cmd"], "prog \"quoted\" arg");
  EXPECT_EQ(doc["tg"], 7);
  EXPECT_EQ(doc["te"], 9);
  const auto& pp = doc["pps"][0];
  EXPECT_EQ(pp["tb"], 100);
  EXPECT_EQ(pp["tbk"], 2);
  EXPECT_EQ(pp["tl"], 50);
  EXPECT_EQ(pp["mb"], 100);
  EXPECT_EQ(pp["gb"], 60);
  EXPECT_EQ(pp["gbk"], 1);
  EXPECT_EQ(pp["eb"], 40);
  EXPECT_EQ(pp["ebk"], 1);
  EXPECT_EQ(pp["fs"], nlohmann::json::array({1, 2}));
}

TEST(Summary, CommasAndShape) {
  EXPECT_EQ(with_commas(0), "0");
  EXPECT_EQ(with_commas(12), "12");
  EXPECT_EQ(with_commas(123), "123");
  EXPECT_EQ(with_commas(1234), "1,234");
  EXPECT_EQ(with_commas(12345), "12,345");
  EXPECT_EQ(with_commas(1234567), "1,234,567");
  EXPECT_EQ(format_summary(SummaryNumbers{1256, 4, 1024, 1, 0, 0}),
            "dhat: Total:     1,256 bytes in 4 blocks\n"
            "dhat: At t-gmax: 1,024 bytes in 1 blocks\n"
            "dhat: At t-end:  0 bytes in 0 blocks\n");
}

TEST(Settings, BoundedNumbers) {
  std::uint64_t value = 0;
  EXPECT_TRUE(dhat::format::parse_decimal("12", 1, 128, &value));
  EXPECT_EQ(value, 12U);
  EXPECT_FALSE(dhat::format::parse_decimal("0", 1, 128, &value));
  EXPECT_FALSE(dhat::format::parse_decimal("129", 1, 128, &value));
  EXPECT_FALSE(dhat::format::parse_decimal("-3", 1, 128, &value));
  EXPECT_FALSE(dhat::format::parse_decimal("12abc", 1, 128, &value));
  EXPECT_FALSE(dhat::format::parse_decimal("", 1, 128, &value));
  EXPECT_FALSE(dhat::format::parse_decimal("99999999999999999999999", 1, 128, &value));
}

TEST(Settings, EnvironmentFillsUnsetFieldsAndBadValuesFallBack) {
  setenv("DHAT_OUT", "from-env.json", 1);
  setenv("DHAT_MAX_FRAMES", "20", 1);
  auto settings = dhat::runtime::resolve_settings(dhat::Options{});
  EXPECT_EQ(settings.file_name, "from-env.json");
  EXPECT_EQ(settings.max_frames, 20U);
  dhat::Options explicit_options;
  explicit_options.file_name = "explicit.json";
  explicit_options.max_frames = 5;
  settings = dhat::runtime::resolve_settings(explicit_options);
  EXPECT_EQ(settings.file_name, "explicit.json");
  EXPECT_EQ(settings.max_frames, 5U);
  setenv("DHAT_MAX_FRAMES", "lots", 1);
  testing::internal::CaptureStderr();
  settings = dhat::runtime::resolve_settings(dhat::Options{});
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(settings.max_frames, dhat::runtime::kDefaultMaxFrames);
  EXPECT_NE(err.find("dhat: ignoring DHAT_MAX_FRAMES='lots'"), std::string::npos) << err;
  unsetenv("DHAT_OUT");
  unsetenv("DHAT_MAX_FRAMES");
  EXPECT_EQ(dhat::runtime::resolve_settings(dhat::Options{}).file_name, "dhat-heap.json");
}

TEST(DhatJson, StreamedFileIsTheWholeTextInPieces) {
  // 20,000 program points: well over 64 KiB, so the file is written in many pieces.
  FakeSymbolizer symbolizer;
  RawProgramPoints raw;
  for (std::size_t i = 0; i < 20000; ++i) {
    raw.add(PpTotals{i + 1, 1, 3, i + 1, 1, 0, 0, 0, 0}, {0x1000 + i, 0x30, 0x90});
  }
  const ProgramPoints points = build_program_points(raw, symbolizer);
  ProfileHeader header;
  header.cmd = "streamed";
  const std::string whole = to_dhat_json(header, points);
  ASSERT_GT(whole.size(), 4U * 64 * 1024);
  const std::string path = "streamed-write-test.json";
  ASSERT_EQ(write_dhat_json_atomically(path, header, points), "");
  std::ifstream in(path, std::ios::binary);
  const std::string on_disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(on_disk.size(), whole.size());
  EXPECT_TRUE(on_disk == whole);
  const auto doc = nlohmann::json::parse(on_disk);
  ASSERT_EQ(doc["pps"].size(), raw.size());
  EXPECT_EQ(doc["pps"][19999]["tb"], 20000);
  EXPECT_EQ(write_dhat_json_atomically("/nonexistent-dir/x.json", header, points), "No such file or directory");
}

TEST(AtomicWrite, ReplacesWholeOrKeepsTheOldFile) {
  const std::string path = "atomic-write-test.json";
  ASSERT_EQ(write_file_atomically(path, "first"), "");
  ASSERT_EQ(write_file_atomically(path, "second"), "");
  std::ifstream in(path);
  std::string text;
  in >> text;
  EXPECT_EQ(text, "second");
  EXPECT_EQ(write_file_atomically("/nonexistent-dir/x.json", "x"), "No such file or directory");
  mkdir("atomic-dir.json", 0755);
  EXPECT_EQ(write_file_atomically("atomic-dir.json", "x"), "Is a directory");
}

}  // namespace
