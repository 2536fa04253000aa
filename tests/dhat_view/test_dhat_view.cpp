// dhat-view summary, diff and check against hand-written dhat-rs-shaped files (known numbers),
// our own profile and one written by valgrind --tool=dhat during the test; bad input.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "format/frame_text.hpp"
#include "format/numbers.hpp"
#include "peers.hpp"

namespace {

struct Result {
  int status = -1;
  std::string out;  // stdout and stderr together
};

// Runs a shell command line, its stdout and stderr together.
Result run_shell(const std::string& command) {
  Result result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  char buffer[4096];
  std::size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    result.out.append(buffer, n);
  }
  const int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

Result run(const std::string& arguments) { return run_shell(std::string(DHAT_VIEW) + " " + arguments); }

const std::string kBefore = std::string(DHAT_FIXTURES) + "/dhat-rs-before.json";
const std::string kAfter = std::string(DHAT_FIXTURES) + "/dhat-rs-after.json";

bool has(const Result& r, const std::string& text) { return r.out.find(text) != std::string::npos; }

TEST(DhatView, SummaryOfADhatRsFile) {
  const Result r = run("summary " + kBefore + " --top 2");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(has(r, "Mode:    rust-heap\n")) << r.out;
  EXPECT_TRUE(has(r, "t-gmax:  1,500 µs (50.0% of the run)\n")) << r.out;
  EXPECT_TRUE(has(r, "Total:     6,064 bytes in 20 blocks\n")) << r.out;
  EXPECT_TRUE(has(r, "At t-gmax: 5,300 bytes in 5 blocks\n")) << r.out;
  EXPECT_TRUE(has(r, "At t-end:  2,500 bytes in 1 blocks\n")) << r.out;
  EXPECT_TRUE(has(r, "Top 2 of 3 program points by total bytes:\n")) << r.out;
  EXPECT_TRUE(has(r, "#1  5,000 bytes (82.5%) in 2 blocks | t-gmax 5,000 | t-end 2,500 | avg lifetime 2,000 µs\n"))
      << r.out;
  EXPECT_TRUE(has(r, "    0x55D4A1B2C5E6: parser::buffer::Buffer::new (src/buffer.rs:7:20)\n")) << r.out;
  EXPECT_FALSE(has(r, "parser::scratch")) << "only the top 2";
  std::size_t start = 0;  // every line fits 100 columns
  while (start < r.out.size()) {
    const std::size_t end = r.out.find('\n', start);
    EXPECT_LE((end == std::string::npos ? r.out.size() : end) - start, 100U + 2U);  // µs is 2 bytes
    start = end == std::string::npos ? r.out.size() : end + 1;
  }
}

TEST(DhatView, SummarySortsByEachMetricAndSpeaksJson) {
  const Result blocks = run("summary " + kBefore + " --sort total-blocks --top 1 --json");
  ASSERT_EQ(blocks.status, 0) << blocks.out;
  const auto doc = nlohmann::json::parse(blocks.out);
  EXPECT_EQ(doc["totals"]["bytes"], 6064);
  EXPECT_EQ(doc["totals"]["tgmax_bytes"], 5300);
  ASSERT_EQ(doc["top"].size(), 1U);
  EXPECT_EQ(doc["top"][0]["tbk"], 10);  // the Vec clone site has the most blocks
  const auto short_lived = nlohmann::json::parse(run("summary " + kBefore + " --sort short-lived --json").out);
  // Average lifetimes: 5 µs (clone), 2,000 µs (buffer), 2 µs (scratch); the threshold is 10 µs.
  ASSERT_EQ(short_lived["top"].size(), 2U);
  EXPECT_EQ(short_lived["top"][0]["tbk"], 10);
  EXPECT_EQ(short_lived["top"][1]["tbk"], 8);
  const auto at_end = nlohmann::json::parse(run("summary " + kBefore + " --sort tend --json").out);
  ASSERT_EQ(at_end["top"].size(), 1U);
  EXPECT_EQ(at_end["top"][0]["eb"], 2500);
}

TEST(DhatView, DiffMatchesProgramPointsByFramesWithoutAddresses) {
  const Result r = run("diff " + kBefore + " " + kAfter + " --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["totals"]["total bytes"]["before"], 6064);
  EXPECT_EQ(doc["totals"]["total bytes"]["after"], 8128);
  ASSERT_EQ(doc["increases"].size(), 2U);
  EXPECT_EQ(doc["increases"][0]["change"], 2000);  // the clone site, matched despite new addresses
  EXPECT_EQ(doc["increases"][0]["frames"][0], "<alloc::vec::Vec<T> as core::clone::Clone>::clone (src/tokens.rs:12:9)");
  EXPECT_EQ(doc["increases"][1]["change"], 64);
  EXPECT_EQ(doc["decreases"].size(), 0U);
  const Result text = run("diff " + kBefore + " " + kAfter);
  EXPECT_TRUE(has(text, "Largest increases in total bytes:\n  +2,000 (1,000 -> 3,000), blocks 10 -> 30\n")) << text.out;
  const Result by_end = run("diff " + kBefore + " " + kAfter + " --metric tend --json");
  const auto end_doc = nlohmann::json::parse(by_end.out);
  ASSERT_EQ(end_doc["increases"].size(), 1U);
  EXPECT_EQ(end_doc["increases"][0]["change"], 128);
}

TEST(DhatView, CheckIsACiGate) {
  const Result pass = run("check " + kBefore + " --max-total-bytes 6064 --max-end-bytes 2500");
  EXPECT_EQ(pass.status, 0) << pass.out;
  EXPECT_TRUE(has(pass, "check passed")) << pass.out;
  const Result fail = run("check " + kAfter +
                          " --max-total-bytes 8000 --max-gmax-bytes 10000 "
                          "--max-function-bytes parser::scratch=100 --max-function-bytes Buffer::new=5000");
  EXPECT_EQ(fail.status, 1) << fail.out;
  EXPECT_TRUE(has(fail, "dhat-view: check failed: total bytes 8,128 > limit 8,000\n")) << fail.out;
  EXPECT_TRUE(has(fail, "dhat-view: check failed: total bytes under 'parser::scratch' 128 > limit 100\n")) << fail.out;
  EXPECT_FALSE(has(fail, "Buffer::new")) << "within its limit";
  EXPECT_FALSE(has(fail, "t-gmax")) << "within its limit";
  EXPECT_EQ(run("check " + kBefore).status, 2) << "no limit given";
  EXPECT_EQ(run("check " + kBefore + " --max-total-bytes lots").status, 2);
}

TEST(DhatView, OurFileAndValgrindsFileAgreeOnTheScenarioSites) {
  DHAT_SKIP_WITHOUT(DHAT_HAVE_VALGRIND, "valgrind");
  ASSERT_EQ(std::system((std::string(DHAT_SCENARIO_PROFILED) + " view-ours.json 2>/dev/null").c_str()), 0);
  ASSERT_EQ(std::system(("valgrind --tool=dhat --dhat-out-file=view-valgrind.json " + std::string(DHAT_SCENARIO_PLAIN) +
                         " 2>/dev/null")
                            .c_str()),
            0);
  const Result ours = run("check view-ours.json --max-function-bytes vg_peak_site=200000");
  EXPECT_EQ(ours.status, 0) << ours.out;
  const Result theirs = run("check view-valgrind.json --max-function-bytes vg_peak_site=199999");
  EXPECT_EQ(theirs.status, 1) << theirs.out;
  EXPECT_TRUE(has(theirs, "'vg_peak_site' 200,000 > limit 199,999")) << theirs.out;
  const Result our_summary = run("summary view-ours.json --sort tgmax --top 3");
  EXPECT_EQ(our_summary.status, 0) << our_summary.out;
  EXPECT_TRUE(has(our_summary, "Mode:    cpp-heap\n")) << our_summary.out;
  EXPECT_TRUE(has(our_summary, "vg_peak_site")) << our_summary.out;  // the site of the peak comes first
  const Result across = run("diff view-ours.json view-valgrind.json --json");
  ASSERT_EQ(across.status, 0) << across.out;
  // Valgrind also counts libstdc++'s 72,704-byte emergency pool, made before main.
  const auto across_doc = nlohmann::json::parse(across.out);
  EXPECT_EQ(across_doc["totals"]["total bytes"]["after"].get<std::int64_t>() -
                across_doc["totals"]["total bytes"]["before"].get<std::int64_t>(),
            72704);
  const Result summary = run("summary view-valgrind.json --top 1");
  EXPECT_EQ(summary.status, 0) << summary.out;
  EXPECT_TRUE(has(summary, "Mode:    heap\n")) << summary.out;
  EXPECT_TRUE(has(summary, "instrs")) << summary.out;
}

TEST(DhatView, PlotDrawsTheTimelineWithTgmaxMarked) {
  ASSERT_EQ(std::system((std::string(DHAT_SCENARIO_PROFILED) + " plot-me.json 2>/dev/null").c_str()), 0);
  std::remove("plot-me.svg");
  std::remove("plot-me.png");
  const Result r = run("plot plot-me.json --png");
  ASSERT_EQ(r.status, 0) << r.out;
  std::ifstream in("plot-me.svg");
  std::stringstream svg;
  svg << in.rdbuf();
  const std::string text = svg.str();
  EXPECT_EQ(text.rfind("<svg", 0), 0U);
  EXPECT_NE(text.find("class=\"heap\""), std::string::npos);
  EXPECT_NE(text.find("class=\"tgmax\""), std::string::npos);
  EXPECT_NE(text.find("class=\"rss\""), std::string::npos) << "the RSS line (check_plot.mjs checks where)";
  // The heap's legend names the profile's bytes at t-gmax.
  const auto doc = nlohmann::json::parse(std::ifstream("plot-me.json"));
  std::uint64_t gb = 0;
  for (const auto& pp : doc["pps"]) {
    gb += pp["gb"].get<std::uint64_t>();
  }
  const std::string peak = dhat::format::with_commas(gb);
  EXPECT_NE(text.find("(peak " + peak + " B, at t-gmax)"), std::string::npos) << peak;
  if (DHAT_HAVE_RSVG_CONVERT) {
    EXPECT_TRUE(has(r, "wrote plot-me.png")) << r.out;
  } else {
    EXPECT_TRUE(has(r, "no PNG: rsvg-convert is not installed")) << r.out;
  }
  const Result other = run("plot " + kBefore);
  EXPECT_EQ(other.status, 2);
  EXPECT_TRUE(has(other, "has no heap timeline")) << other.out;
}

// The process's peak RSS next to the heap at t-gmax, and RSS at t-gmax (the reading nearest to
// it) and at t-end, as the file has them.
TEST(DhatView, SummaryShowsPeakRssBesideTheHeapAtTgmax) {
  ASSERT_EQ(std::system((std::string(DHAT_SCENARIO_PROFILED) + " rss-summary.json 2>/dev/null").c_str()), 0);
  const auto doc = nlohmann::json::parse(std::ifstream("rss-summary.json"));
  std::uint64_t gb = 0;
  for (const auto& pp : doc["pps"]) {
    gb += pp["gb"].get<std::uint64_t>();
  }
  const auto& rss = doc["dhatCppRss"];
  const auto bucket = rss["bucketUs"].get<std::uint64_t>();
  const auto readings = rss["maxBytes"].get<std::vector<std::uint64_t>>();
  const auto peak = rss["peakBytes"].get<std::uint64_t>();
  const auto nearest = [&](std::uint64_t t) {  // the reading whose bucket's middle is nearest to t
    std::uint64_t best = 0, best_distance = UINT64_MAX;
    for (std::size_t i = 0; i < readings.size(); ++i) {
      const std::uint64_t middle = bucket * i + bucket / 2;
      const std::uint64_t distance = middle > t ? middle - t : t - middle;
      if (readings[i] != 0 && distance <= best_distance) {
        best = readings[i];
        best_distance = distance;
      }
    }
    return best;
  };
  ASSERT_GT(peak, gb);
  const Result json = run("summary rss-summary.json --json");
  ASSERT_EQ(json.status, 0) << json.out;
  const auto out = nlohmann::json::parse(json.out);
  EXPECT_EQ(out["rss"]["peak_bytes"].get<std::uint64_t>(), peak);
  EXPECT_EQ(out["rss"]["at_tgmax_bytes"].get<std::uint64_t>(), nearest(doc["tg"].get<std::uint64_t>()));
  EXPECT_EQ(out["rss"]["at_tend_bytes"].get<std::uint64_t>(), nearest(doc["te"].get<std::uint64_t>()));
  EXPECT_DOUBLE_EQ(out["rss"]["peak_over_tgmax_heap"].get<double>(),
                   static_cast<double>(peak) / static_cast<double>(gb));
  const Result text = run("summary rss-summary.json");
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%.2fx", static_cast<double>(peak) / static_cast<double>(gb));
  EXPECT_TRUE(has(text, "Peak RSS:  " + dhat::format::with_commas(peak) + " bytes (whole process: " + ratio +
                            " the heap at t-gmax)\n"))
      << text.out;
  EXPECT_TRUE(has(text, "RSS at t-gmax: " + dhat::format::with_commas(nearest(doc["tg"].get<std::uint64_t>())) +
                            " bytes (read at "))
      << text.out;
  // Other tools' files have no RSS: nothing is said of it.
  const Result other = run("summary " + kBefore);
  EXPECT_FALSE(has(other, "RSS")) << other.out;
}

// Collapsed stacks of the hand-written file: each program point's frames without addresses, main
// first (inverted: the allocation site first), and the value of the metric.
TEST(DhatView, FlamegraphFoldedStacksOfADhatRsFile) {
  const Result normal = run("flamegraph " + kBefore + " --folded -o -");
  ASSERT_EQ(normal.status, 0) << normal.out;
  EXPECT_EQ(normal.out,
            "parser::main (src/main.rs:40:5);parser::buffer::Buffer::new (src/buffer.rs:7:20) 5000\n"
            "parser::main (src/main.rs:40:5);<alloc::vec::Vec<T> as core::clone::Clone>::clone (src/tokens.rs:12:9) "
            "1000\n"
            "parser::main (src/main.rs:40:5);parser::scratch (src/scratch.rs:3:13) 64\n");
  const Result inverted = run("flamegraph " + kBefore + " --folded --inverted --metric total-blocks -o -");
  ASSERT_EQ(inverted.status, 0) << inverted.out;
  EXPECT_EQ(inverted.out,
            "<alloc::vec::Vec<T> as core::clone::Clone>::clone (src/tokens.rs:12:9);parser::main (src/main.rs:40:5) "
            "10\n"
            "parser::scratch (src/scratch.rs:3:13);parser::main (src/main.rs:40:5) 8\n"
            "parser::buffer::Buffer::new (src/buffer.rs:7:20);parser::main (src/main.rs:40:5) 2\n");
}

// Sums a folded file's values (the number after the last space of each line).
std::uint64_t folded_total(const std::string& text) {
  std::uint64_t total = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    total += std::stoull(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

// On our own profile (and Valgrind's, where installed): for every metric the collapsed stacks
// add up to the file's sum of that metric, the HTML page carries the same total, and the page
// is written in place over a device (never replaced by a regular file).
TEST(DhatView, FlamegraphAddsUpToTheFilesTotalsForEveryMetric) {
  ASSERT_EQ(std::system((std::string(DHAT_SCENARIO_PROFILED) + " flame-ours.json 2>/dev/null").c_str()), 0);
  std::vector<std::string> files{"flame-ours.json"};
  if (DHAT_HAVE_VALGRIND) {
    ASSERT_EQ(std::system(("valgrind --tool=dhat --dhat-out-file=flame-valgrind.json " +
                           std::string(DHAT_SCENARIO_PLAIN) + " 2>/dev/null")
                              .c_str()),
              0);
    files.emplace_back("flame-valgrind.json");
  }
  for (const std::string& file : files) {
    const auto doc = nlohmann::json::parse(std::ifstream(file));
    for (const auto& [metric, key] : {std::pair{"total-bytes", "tb"}, std::pair{"total-blocks", "tbk"},
                                      std::pair{"tgmax", "gb"}, std::pair{"tend", "eb"}}) {
      std::uint64_t sum = 0;
      for (const auto& pp : doc["pps"]) {
        sum += pp[key].get<std::uint64_t>();
      }
      for (const std::string order : {"", " --inverted"}) {
        const Result folded = run("flamegraph " + file + " --folded -o - --metric " + metric + order);
        ASSERT_EQ(folded.status, 0) << folded.out;
        EXPECT_EQ(folded_total(folded.out), sum) << file << " " << metric << order;
      }
      std::remove("flame.html");
      const Result page = run("flamegraph " + file + " -o flame.html --metric " + metric);
      ASSERT_EQ(page.status, 0) << page.out;
      EXPECT_TRUE(has(page, ": " + dhat::format::with_commas(sum) + " ")) << page.out;
      std::ifstream in("flame.html");
      std::stringstream html;
      html << in.rdbuf();
      EXPECT_EQ(html.str().rfind("<!DOCTYPE html>", 0), 0U);
      // The root's entry: [name index 0, the total, [children]].
      EXPECT_NE(html.str().find("\"tree\":[0," + std::to_string(sum) + ","), std::string::npos) << metric;
      EXPECT_EQ(html.str().find("://"), std::string::npos) << "the page names no address to load";
    }
  }
  const Result device = run("flamegraph flame-ours.json -o /dev/null");
  EXPECT_EQ(device.status, 0) << device.out;
  struct stat null_device {};
  ASSERT_EQ(stat("/dev/null", &null_device), 0);
  EXPECT_TRUE(S_ISCHR(null_device.st_mode));
  const Result metric = run("flamegraph flame-ours.json --metric lots");
  EXPECT_EQ(metric.status, 2);
  EXPECT_EQ(metric.out,
            "dhat-view: flamegraph: unknown metric 'lots' (total-bytes, total-blocks, tgmax, tend, short-lived, "
            "temporary)\n");
}

// A program point's frames without addresses, joined: what merge matches program points by.
std::string stack_key(const nlohmann::json& doc, const nlohmann::json& pp) {
  std::string key;
  for (const auto& f : pp["fs"]) {
    key += std::string(dhat::format::without_address(doc["ftbl"][f.get<std::size_t>()].get<std::string>())) + "\n";
  }
  return key;
}

// Every counter of every merged program point is the sum of the inputs' program points with the
// same frames (addresses removed), and nothing else is in the file.
void expect_merged(const std::string& merged, const std::vector<std::string>& inputs) {
  std::map<std::string, std::map<std::string, std::uint64_t>> expected;
  for (const std::string& input : inputs) {
    const auto doc = nlohmann::json::parse(std::ifstream(input));
    for (const auto& pp : doc["pps"]) {
      for (const char* key : {"tb", "tbk", "tl", "mb", "mbk", "gb", "gbk", "eb", "ebk"}) {
        expected[stack_key(doc, pp)][key] += pp[key].get<std::uint64_t>();
      }
    }
  }
  const auto doc = nlohmann::json::parse(std::ifstream(merged));
  EXPECT_EQ(doc["pps"].size(), expected.size());
  for (const auto& pp : doc["pps"]) {
    const auto found = expected.find(stack_key(doc, pp));
    ASSERT_NE(found, expected.end()) << stack_key(doc, pp);
    for (const auto& [key, value] : found->second) {
      EXPECT_EQ(pp[key].get<std::uint64_t>(), value) << key << " of " << found->first;
    }
  }
  EXPECT_EQ(doc["dhatCppMerge"]["profiles"].get<std::size_t>(), inputs.size());
}

TEST(DhatView, MergeSumsProgramPointsMatchedByFramesWithoutAddresses) {
  const Result two = run("merge " + kBefore + " " + kAfter + " -o merged-two.json");
  ASSERT_EQ(two.status, 0) << two.out;
  EXPECT_TRUE(has(two, "merged 2 profiles into merged-two.json (3 program points)")) << two.out;
  expect_merged("merged-two.json", {kBefore, kAfter});
  ASSERT_EQ(std::system((std::string(DHAT_SCENARIO_PROFILED) + " merge-a.json 2>/dev/null && " +
                         DHAT_SCENARIO_PROFILED + " merge-b.json 2>/dev/null")
                            .c_str()),
            0);
  const Result ours = run("merge merge-a.json merge-b.json merge-a.json -o merged-ours.json");
  ASSERT_EQ(ours.status, 0) << ours.out;
  expect_merged("merged-ours.json", {"merge-a.json", "merge-b.json", "merge-a.json"});
  const Result summary = run("summary merged-ours.json");
  EXPECT_EQ(summary.status, 0) << summary.out;  // the merged file reads back
  const Result mixed = run("merge merge-a.json " + kBefore + " -o merged-mixed.json");
  EXPECT_EQ(mixed.status, 2);
  EXPECT_EQ(mixed.out, "dhat-view: merge: '" + kBefore +
                           "' cannot be merged with 'merge-a.json': it has mode 'rust-heap', the first file's is "
                           "'cpp-heap'\n");
  EXPECT_NE(access("merged-mixed.json", F_OK), 0) << "nothing written";
  EXPECT_EQ(run("merge merge-a.json").status, 2) << "no -o";
}

// The max resident set of one run of dhat-view with these arguments, in KiB.
long max_rss_kib(const std::vector<std::string>& arguments) {
  const pid_t child = fork();
  if (child == 0) {
    std::vector<char*> argv{const_cast<char*>(DHAT_VIEW)};
    for (const std::string& a : arguments) {
      argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    freopen("/dev/null", "w", stdout);
    execv(DHAT_VIEW, argv.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  if (wait4(child, &status, 0, &usage) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return -1;
  }
  return usage.ru_maxrss;
}

// Merging streams: the inputs are read one at a time, so 120 profiles of the same 3,000 program
// points take about the memory of 12 (holding them all would take about ten times as much).
TEST(DhatView, MergeMemoryDoesNotGrowWithTheNumberOfProfiles) {
  constexpr int kPoints = 3000;
  {
    std::ofstream out("merge-many.json");
    out << R"({"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,"bkacc":false,)"
        << R"("tu":"µs","Mtu":"s","tuth":10,"cmd":"many","pid":1,"tg":1,"te":2,"pps":[)";
    for (int i = 0; i < kPoints; ++i) {
      out << (i == 0 ? "" : ",") << R"({"tb":)" << i + 1 << R"(,"tbk":1,"tl":5,"mb":1,"mbk":1,"gb":0,"gbk":0,)"
          << R"("eb":0,"ebk":0,"fs":[)" << i + 1 << "]}";
    }
    out << R"(],"ftbl":["[root]")";
    for (int i = 0; i < kPoints; ++i) {
      out << ",\"0x" << std::hex << 0x400000 + i << std::dec << ": a_function_with_a_longish_name_" << i
          << " (src/some/directory/file_" << i % 100 << ".cpp:" << i % 1000 << ")\"";
    }
    out << "]}";
  }
  std::vector<std::string> few{"merge", "-o", "merged-few.json"};
  std::vector<std::string> many{"merge", "-o", "merged-many.json"};
  for (int i = 0; i < 120; ++i) {
    (i < 12 ? few : many).emplace_back("merge-many.json");
    if (i < 12) {
      many.emplace_back("merge-many.json");
    }
  }
  const long few_kib = max_rss_kib(few);
  const long many_kib = max_rss_kib(many);
  ASSERT_GT(few_kib, 0);
  ASSERT_GT(many_kib, 0);
  EXPECT_LT(many_kib, few_kib + few_kib / 4) << few_kib << " KiB for 12 profiles, " << many_kib << " for 120";
  const auto doc = nlohmann::json::parse(std::ifstream("merged-many.json"));
  EXPECT_EQ(doc["pps"].size(), static_cast<std::size_t>(kPoints));
  EXPECT_EQ(doc["pps"][kPoints - 1]["tb"].get<std::uint64_t>(), 120U * kPoints);
  std::remove("merge-many.json");
}

// dhat-cpp's temporary blocks (tmpbk) in every command that reads a metric; other tools' files
// have none, and asking for them there is one clear line and exit 2.
TEST(DhatView, TemporaryBlocksAreAMetricWhereTheFileCountsThem) {
  ASSERT_EQ(std::system((std::string(DHAT_SCENARIO_PROFILED) + " temporary.json 2>/dev/null").c_str()), 0);
  const auto doc = nlohmann::json::parse(std::ifstream("temporary.json"));
  std::uint64_t temporary = 0, blocks = 0, most = 0;
  for (const auto& pp : doc["pps"]) {
    temporary += pp["tmpbk"].get<std::uint64_t>();
    blocks += pp["tbk"].get<std::uint64_t>();
    most = std::max(most, pp["tmpbk"].get<std::uint64_t>());
  }
  ASSERT_GT(temporary, 0U);
  const std::string n = dhat::format::with_commas(temporary);
  const Result summary = run("summary temporary.json --sort temporary --top 1");
  ASSERT_EQ(summary.status, 0) << summary.out;
  EXPECT_TRUE(has(summary, "Temporary: " + n + " blocks (")) << summary.out;
  EXPECT_TRUE(has(summary, "Top 1 of ")) << summary.out;
  EXPECT_TRUE(has(summary, " | temporary " + dhat::format::with_commas(most))) << summary.out;
  const Result json = run("summary temporary.json --json");
  ASSERT_EQ(json.status, 0) << json.out;
  EXPECT_EQ(nlohmann::json::parse(json.out)["totals"]["temporary_blocks"].get<std::uint64_t>(), temporary);
  EXPECT_LE(temporary, blocks);
  const Result over = run("check temporary.json --max-temporary " + std::to_string(temporary - 1));
  EXPECT_EQ(over.status, 1) << over.out;
  EXPECT_TRUE(has(over, "dhat-view: check failed: temporary blocks " + n + " > limit ")) << over.out;
  EXPECT_EQ(run("check temporary.json --max-temporary " + std::to_string(temporary)).status, 0);
  const Result folded = run("flamegraph temporary.json --metric temporary --folded -o -");
  ASSERT_EQ(folded.status, 0) << folded.out;
  EXPECT_EQ(folded_total(folded.out), temporary);
  const Result diff = run("diff temporary.json temporary.json --metric temporary --json");
  ASSERT_EQ(diff.status, 0) << diff.out;
  EXPECT_EQ(nlohmann::json::parse(diff.out)["totals"]["temporary blocks"]["after"].get<std::uint64_t>(), temporary);
  EXPECT_EQ(run("merge temporary.json temporary.json -o temporary-twice.json").status, 0);
  std::uint64_t twice = 0;
  const auto merged = nlohmann::json::parse(std::ifstream("temporary-twice.json"));
  for (const auto& pp : merged["pps"]) {
    twice += pp["tmpbk"].get<std::uint64_t>();
  }
  EXPECT_EQ(twice, 2 * temporary);
  // A dhat-rs file counts no temporary blocks.
  EXPECT_FALSE(has(run("summary " + kBefore), "Temporary:"));
  const std::string refusal = "dhat-view: '" + kBefore +
                              "' has no temporary blocks (tmpbk): only dhat-cpp's heap "
                              "profiles count them\n";
  for (const std::string& command :
       {"summary " + kBefore + " --sort temporary", "check " + kBefore + " --max-temporary 1",
        "flamegraph " + kBefore + " --metric temporary -o -",
        "diff " + kBefore + " " + kAfter + " --metric temporary"}) {
    const Result r = run(command);
    EXPECT_EQ(r.status, 2) << command;
    EXPECT_EQ(r.out, refusal) << command;
  }
}

TEST(DhatView, BadInputGetsOneClearLineAndExit2) {
  {
    std::ofstream("not-json.json") << "hello";
    std::ofstream("json-array.json") << "  [1, 2]";
    std::ofstream("empty.json") << " \n";
    std::ofstream("not-dhat.json") << R"({"name": "a package.json"})";
    std::ofstream("version3.json") << R"({"dhatFileVersion": 3, "mode": "heap", "pps": [], "ftbl": [], "te": 1})";
    std::ofstream("truncated.json") << R"({"dhatFileVersion":2,"mode":"heap","pps":[{"tb":1,)";
    std::ofstream("damaged.json")
        << R"({"dhatFileVersion":2,"mode":"heap","te":1,"pps":[{"tb":1,"tbk":1,"fs":[7]}],"ftbl":["[root]"]})";
    // Counters that are not counts (each was read as 0 before), and counts whose sum passes
    // 2^63-1 (printed as a negative total before).
    const std::string head = R"({"dhatFileVersion":2,"mode":"heap","te":1,"ftbl":["[root]"],"pps":[)";
    std::ofstream("text-count.json") << head << R"({"tb":"lots","tbk":1,"fs":[]}]})";
    std::ofstream("negative-count.json") << head << R"({"tb":1,"tbk":-5,"fs":[]}]})";
    std::ofstream("huge-count.json") << head << R"({"tb":18446744073709551616,"tbk":1,"fs":[]}]})";
    std::ofstream("text-time.json") << R"({"dhatFileVersion":2,"mode":"heap","te":"late","ftbl":[],"pps":[]})";
    std::ofstream("overflowing-sum.json")
        << head << R"({"tb":9223372036854775807,"tbk":1,"fs":[]},{"tb":1,"tbk":1,"fs":[]}]})";
    const std::string empty = R"({"dhatFileVersion":2,"mode":"heap","te":1,"ftbl":["[root]"],"pps":[],)";
    std::ofstream("text-rss.json") << empty << R"("dhatCppRss":{"bucketUs":1,"maxBytes":[5,"x"],"endBytes":[5,1]}})";
    std::ofstream("text-rss-peak.json")
        << empty << R"("dhatCppRss":{"bucketUs":1,"maxBytes":[5],"endBytes":[5],"peakBytes":-1}})";
    std::ofstream("uneven-rss.json") << empty << R"("dhatCppRss":{"bucketUs":1,"maxBytes":[5,6],"endBytes":[5]}})";
  }
  const struct {
    const char* file;
    const char* message;
  } cases[] = {
      {"missing.json", "dhat-view: cannot open 'missing.json': No such file or directory"},
      {"not-json.json", "dhat-view: 'not-json.json' is not a DHAT profile: it does not begin with '{'"},
      {"json-array.json", "dhat-view: 'json-array.json' is not a DHAT profile: it does not begin with '{'"},
      {"empty.json", "dhat-view: 'empty.json' is empty or only white space: not a DHAT profile"},
      {"not-dhat.json", "dhat-view: 'not-dhat.json' is JSON but not a DHAT profile (no dhatFileVersion)"},
      {"version3.json", "dhat-view: 'version3.json' has DHAT format version 3; dhat-view reads version 2"},
      {"truncated.json", "dhat-view: 'truncated.json' is not complete JSON (truncated?)"},
      {"damaged.json", "dhat-view: 'damaged.json' is damaged: a program point names frame 7 of 1"},
      {"text-count.json",
       "dhat-view: 'text-count.json' is damaged: program point 0's 'tb' is \"lots\", not a whole number "
       "from 0 to 2^64-1"},
      {"negative-count.json",
       "dhat-view: 'negative-count.json' is damaged: program point 0's 'tbk' is -5, not a whole number"},
      {"huge-count.json", "dhat-view: 'huge-count.json' is damaged: program point 0's 'tb' is 1.8446744073709552e+19"},
      {"text-time.json", "dhat-view: 'text-time.json' is damaged: 'te' is \"late\", not a whole number"},
      {"overflowing-sum.json",
       "dhat-view: 'overflowing-sum.json' is damaged: its program points' 'tb' adds up past 2^63-1"},
      {"text-rss.json",
       "dhat-view: 'text-rss.json' is damaged: its resident memory record holds \"x\", not a whole number of bytes"},
      {"text-rss-peak.json",
       "dhat-view: 'text-rss-peak.json' is damaged: the resident memory record's 'peakBytes' is -1, not a whole"},
      {"uneven-rss.json",
       "dhat-view: 'uneven-rss.json' is damaged: its resident memory record's columns differ in length"}};
  for (const auto& c : cases) {
    for (const std::string command :
         {"summary ", "check --max-total-bytes 1 ", "flamegraph -o bad.flame.html ", "merge -o bad-merge.json "}) {
      const Result r = run(command + c.file);
      EXPECT_EQ(r.status, 2) << command << c.file << ": " << r.out;
      EXPECT_EQ(r.out.rfind(c.message, 0), 0U) << r.out;
      EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one line: " << r.out;
    }
  }
  EXPECT_EQ(run("frobnicate x").status, 2);
  const Result open_bad = run("open not-dhat.json --no-browser --seconds 1");
  EXPECT_EQ(open_bad.status, 2) << open_bad.out;  // refused before serving anything
  const Result no_viewer = run("open " + kBefore + " --no-browser --seconds 1 --viewer /nonexistent/dh_view.html");
  EXPECT_EQ(no_viewer.status, 2) << no_viewer.out;
  EXPECT_TRUE(has(no_viewer, "cannot find Valgrind's dh_view.html")) << no_viewer.out;
  EXPECT_EQ(run("diff only-one.json").status, 2);
}

// Valgrind writes a file name as its bytes: a Latin-1 name ("caf\xE9.c") is not UTF-8. The
// stock viewer loads such a file, so dhat-view reads it too, the byte shown as U+FFFD.
TEST(DhatView, AFileNameThatIsNotUtf8IsReadAsAReplacementCharacter) {
  std::ofstream("latin1.json") << "{\"dhatFileVersion\":2,\"mode\":\"heap\",\"te\":10,\"tg\":5,\"pps\":["
                                  "{\"tb\":64,\"tbk\":2,\"fs\":[1]}],\"ftbl\":[\"[root]\","
                                  "\"0x401000: brew (caf\xE9.c:12)\"]}";
  const Result r = run("summary latin1.json");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(has(r, "Total:     64 bytes in 2 blocks\n")) << r.out;
  EXPECT_TRUE(has(r, "brew (caf\xEF\xBF\xBD.c:12)")) << r.out;
}

// A file that cannot begin a DHAT profile is refused at its first bytes: a 4 GiB file of NUL
// bytes (sparse: it takes no disk) under a 1 GiB address-space limit, which reading it whole
// could not fit.
TEST(DhatView, AHugeFileThatIsNotAProfileIsRefusedAtItsFirstBytes) {
  ASSERT_EQ(std::system("rm -f zeros.json && truncate -s 4G zeros.json"), 0);
  const Result r = run_shell("ulimit -v 1048576 && " + std::string(DHAT_VIEW) + " summary zeros.json");
  std::remove("zeros.json");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_TRUE(has(r, "dhat-view: 'zeros.json' is not a DHAT profile: it does not begin with '{'")) << r.out;
}

// 200,000 program points with a frame each (30 MB): with a document tree this took 345 MB and
// under a memory limit died of an uncaught std::bad_alloc; read straight into compact
// structures it fits in 160 MB of address space, and below what it needs it says so in one line.
TEST(DhatView, ABigProfileIsReadInAFewTimesItsSizeAndRunningOutOfMemoryIsOneLine) {
  if (std::getenv("DHAT_TEST_EMULATED") != nullptr) {
    GTEST_SKIP() << "under qemu-user, ulimit -v limits the emulator's address space, not dhat-view's";
  }
  constexpr std::uint64_t kPoints = 200000;
  {
    std::ofstream out("big.json");
    out << R"({"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,"bkacc":false,)"
        << R"("tu":"µs","Mtu":"s","tuth":10,"cmd":"big","pid":1,"tg":1,"te":2,"pps":[)";
    for (std::uint64_t i = 0; i < kPoints; ++i) {
      out << (i == 0 ? "" : ",") << R"({"tb":)" << i + 1 << R"(,"tbk":1,"tl":5,"mb":)" << i + 1
          << R"(,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[)" << i + 1 << "]}";
    }
    out << R"(],"ftbl":["[root]")";
    for (std::uint64_t i = 0; i < kPoints; ++i) {
      out << ",\"0x" << std::hex << 0x400000 + i << std::dec << ": function_number_" << i << " (src/file_" << i % 100
          << ".cpp:" << i % 1000 << ")\"";
    }
    out << "]}";
  }
  const Result fits = run_shell("ulimit -v 160000 && " + std::string(DHAT_VIEW) + " summary big.json");
  EXPECT_EQ(fits.status, 0) << fits.out.substr(0, 300);
  EXPECT_TRUE(has(fits, "20,000,100,000")) << fits.out.substr(0, 600);  // 1 + 2 + ... + 200,000 bytes
  const Result starved = run_shell("ulimit -v 40000 && " + std::string(DHAT_VIEW) + " summary big.json");
  std::remove("big.json");
  EXPECT_EQ(starved.status, 2) << starved.out;
  EXPECT_EQ(std::count(starved.out.begin(), starved.out.end(), '\n'), 1) << starved.out;
  EXPECT_TRUE(has(starved, "dhat-view: out of memory")) << starved.out;
}

TEST(DhatView, HelpForEverySubcommand) {
  EXPECT_EQ(run("--help").status, 0);
  for (const char* sub : {"open", "summary", "diff", "check", "plot", "flamegraph", "merge"}) {
    const Result r = run(std::string(sub) + " --help");
    EXPECT_EQ(r.status, 0) << sub;
    EXPECT_TRUE(has(r, std::string("usage: dhat-view ") + sub)) << r.out;
  }
}

}  // namespace
