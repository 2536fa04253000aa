// Testing support: the assertion helpers behind DHAT_ASSERT* and <dhat/gtest.hpp>, and the
// "warm up, then N iterations allocate at most this much" check with the allocating sites named.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "api/run_control.hpp"
#include "api/run_report.hpp"
#include "core/recorder.hpp"
#include "core/reentrancy_guard.hpp"
#include "dhat/dhat.hpp"
#include "report/dwarf_symbolizer.hpp"
#include "report/program_points.hpp"
#include "report/summary.hpp"

namespace dhat::detail {

namespace {

constexpr const char* kNeedsTestingMode =
    "dhat: error: dhat assertions need a running dhat::Profiler built with .testing() "
    "(dhat::Profiler::builder().testing().build())";

// Per-PP totals at one moment, indexed by PP id.
struct Totals {
  std::vector<std::uint64_t> blocks, bytes;
};

void copy_totals(const core::HeapModel& model, const core::StackTable&, const core::Timeline&, std::uint64_t,
                 void* context) {
  auto* out = static_cast<Totals*>(context);
  out->blocks.resize(model.pp_count());
  out->bytes.resize(model.pp_count());
  for (core::PpId id = 0; id < model.pp_count(); ++id) {
    out->blocks[id] = model.pp(id).total_blocks;
    out->bytes[id] = model.pp(id).total_bytes;
  }
}

// The program points whose totals grew since `before`, with the growth as their totals.
struct GrownSites {
  const Totals* before;
  report::RawProgramPoints raw;
};

void copy_grown_sites(const core::HeapModel& model, const core::StackTable& stacks, const core::Timeline&,
                      std::uint64_t, void* context) {
  auto* out = static_cast<GrownSites*>(context);
  for (core::PpId id = 0; id < model.pp_count(); ++id) {
    const bool existed = id < out->before->blocks.size();
    const std::uint64_t blocks = model.pp(id).total_blocks - (existed ? out->before->blocks[id] : 0);
    if (blocks == 0) {
      continue;
    }
    report::PpTotals grown;
    grown.tbk = blocks;
    grown.tb = model.pp(id).total_bytes - (existed ? out->before->bytes[id] : 0);
    out->raw.add(grown, stacks.frames(id), stacks.depth(id));
  }
}

std::string describe_sites(const Totals& before, std::size_t max_sites) {
  GrownSites grown{&before, {}};
  if (!core::read_state(&copy_grown_sites, &grown)) {
    return "";
  }
  core::ReentrancyGuard not_recorded;
  report::DwarfSymbolizer symbolizer;
  report::ProgramPoints points = report::build_program_points(std::move(grown.raw), symbolizer);
  std::sort(points.pps.begin(), points.pps.end(),
            [](const report::ProgramPoint& a, const report::ProgramPoint& b) { return a.totals.tbk > b.totals.tbk; });
  std::string text = "allocating call sites:\n";
  for (std::size_t i = 0; i < points.pps.size() && i < max_sites; ++i) {
    const report::ProgramPoint& point = points.pps[i];
    text += "  " + report::with_commas(point.totals.tbk) + " blocks, " + report::with_commas(point.totals.tb) +
            " bytes at\n";
    for (const report::FrameId* id = points.frames_begin(point); id != points.frames_end(point); ++id) {
      text += "    " + points.ftbl[*id] + "\n";
    }
  }
  if (points.pps.size() > max_sites) {
    text += "  (" + std::to_string(points.pps.size() - max_sites) + " more sites)\n";
  }
  return text;
}

}  // namespace

std::string testing_mode_refusal() {
  api::RunSettings settings;
  if (!api::running_settings(&settings) || !settings.testing) {
    return kNeedsTestingMode;
  }
  return "";
}

void require_testing_mode(const char* expression, const char* file, int line) {
  const std::string refusal = testing_mode_refusal();
  if (!refusal.empty()) {
    std::fprintf(stderr, "%s; refusing `%s` at %s:%d\n", refusal.c_str(), expression, file, line);
    std::abort();
  }
}

std::string save_profile_for_failed_assertion(std::string* refusal) {
  api::RunSettings settings;
  if (!api::running_settings(&settings) || !settings.testing) {
    *refusal = kNeedsTestingMode;
    return "";
  }
  const std::string path = api::expand_file_pattern(settings.file_name, static_cast<long>(getpid()));
  const api::WrittenProfile written = api::write_profile(settings, path);
  if (!written.error.empty()) {
    return "the profile could not be written to '" + path + "': " + written.error;
  }
  return "the profile has been saved to " + path;
}

void fail_assertion(const char* expression, const std::string& values, const char* file, int line) {
  std::string refusal;
  const std::string saved = save_profile_for_failed_assertion(&refusal);
  if (!refusal.empty()) {
    std::fprintf(stderr, "%s; refusing `%s` at %s:%d\n", refusal.c_str(), expression, file, line);
  } else {
    std::fprintf(stderr, "dhat: assertion failed at %s:%d: `%s`%s; %s\n", file, line, expression,
                 values.empty() ? "" : (" (" + values + ")").c_str(), saved.c_str());
  }
  std::abort();
}

AllocationCheck check_allocations(void (*body)(void*), void* context, const AllocationLimits& limits) {
  AllocationCheck check;
  body(context);  // the warm-up: caches, capacities and first-use initialization may allocate
  bool private_run = false;
  if (!core::is_recording()) {
    private_run = !core::is_ad_hoc_run() && api::acquire_private_run();
    if (!private_run) {
      for (int i = 0; i < limits.iterations; ++i) {
        body(context);
      }
      check.ok = false;
      check.report = "dhat: cannot check allocations: an ad hoc profiler is running";
      return check;
    }
  }
  Totals before;
  core::read_state(&copy_totals, &before);
  const HeapStats start = HeapStats::get();
  for (int i = 0; i < limits.iterations; ++i) {
    body(context);
  }
  const HeapStats end = HeapStats::get();
  check.blocks = end.total_blocks - start.total_blocks;
  check.bytes = end.total_bytes - start.total_bytes;
  check.ok = check.blocks <= limits.max_blocks && check.bytes <= limits.max_bytes;
  if (!check.ok) {
    core::ReentrancyGuard not_recorded;
    check.report =
        std::to_string(limits.iterations) + " iterations after a warm-up allocated " +
        report::with_commas(check.blocks) + " blocks (" + report::with_commas(check.bytes) + " bytes); the limit is " +
        report::with_commas(limits.max_blocks) + " blocks" +
        (limits.max_bytes == UINT64_MAX ? std::string() : " and " + report::with_commas(limits.max_bytes) + " bytes") +
        "\n" + describe_sites(before, 8);
  }
  if (private_run) {
    api::release_private_run();
  }
  return check;
}

}  // namespace dhat::detail
