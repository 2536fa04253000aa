// The DHAT file: every field the stock viewer checks, the counters in the order of
// format/counters.hpp, streaming in pieces, and atomic writes that keep the old file on failure.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fake_symbolizer.hpp"
#include "format/counters.hpp"
#include "report/dhat_json.hpp"

using namespace dhat::report;
using dhat_test::FakeSymbolizer;

namespace {

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
  ASSERT_EQ(write_dhat_json_file(path, header, points), "");
  std::ifstream in(path, std::ios::binary);
  const std::string on_disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(on_disk.size(), whole.size());
  EXPECT_TRUE(on_disk == whole);
  const auto doc = nlohmann::json::parse(on_disk);
  ASSERT_EQ(doc["pps"].size(), raw.size());
  EXPECT_EQ(doc["pps"][19999]["tb"], 20000);
  EXPECT_EQ(write_dhat_json_file("/nonexistent-dir/x.json", header, points), "No such file or directory");
}

TEST(AtomicWrite, ReplacesWholeOrKeepsTheOldFile) {
  const std::string path = "atomic-write-test.json";
  ASSERT_EQ(write_output_file(path, "first"), "");
  ASSERT_EQ(write_output_file(path, "second"), "");
  std::ifstream in(path);
  std::string text;
  in >> text;
  EXPECT_EQ(text, "second");
  EXPECT_EQ(write_output_file("/nonexistent-dir/x.json", "x"), "No such file or directory");
  mkdir("atomic-dir.json", 0755);
  EXPECT_EQ(write_output_file("atomic-dir.json", "x"), "Is a directory");
}

// The keys of a program point are the counter list's, in its order, then the frames; an ad hoc
// profile has only the counters that do not need lifetimes.
TEST(DhatJson, ProgramPointKeysFollowTheCounterList) {
  FakeSymbolizer symbolizer;
  RawProgramPoints raw;
  raw.add(PpTotals{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {0x30});
  for (const bool ad_hoc : {false, true}) {
    ProfileHeader header;
    header.ad_hoc = ad_hoc;
    const auto doc = nlohmann::ordered_json::parse(to_dhat_json(header, build_program_points(raw, symbolizer)));
    std::vector<std::string> keys;
    for (const auto& item : doc["pps"][0].items()) {
      keys.push_back(item.key());
    }
    std::vector<std::string> expected;
    std::uint64_t value = 0;
    for (const dhat::format::CounterField& field : dhat::format::kCounterFields) {
      ++value;
      if (!ad_hoc || !field.lifetimes) {
        expected.emplace_back(field.key);
        EXPECT_EQ(doc["pps"][0][field.key], value) << field.key;
      }
    }
    expected.emplace_back("fs");
    EXPECT_EQ(keys, expected) << (ad_hoc ? "ad hoc" : "heap");
  }
  EXPECT_EQ(dhat::format::kCounterCount, 10U);  // DHAT's nine and dhat-cpp's tmpbk
}

}  // namespace
