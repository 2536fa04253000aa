#include "runtime/site_growth.hpp"

#include <algorithm>

#include "core/recorder.hpp"
#include "core/signals_blocked.hpp"
#include "format/numbers.hpp"
#include "report/dwarf_symbolizer.hpp"
#include "report/program_points.hpp"

namespace dhat::runtime {

namespace {

void copy_totals(const core::HeapModel& model, const core::StackTable&, const core::Timeline&, const core::RssTimeline&,
                 std::uint64_t, void* context) {
  auto* out = static_cast<SiteTotals*>(context);
  out->blocks.resize(model.pp_count());
  out->bytes.resize(model.pp_count());
  for (core::PpId id = 0; id < model.pp_count(); ++id) {
    out->blocks[id] = model.pp(id).total_blocks;
    out->bytes[id] = model.pp(id).total_bytes;
  }
}

// The program points whose totals grew since `before`, with the growth as their totals.
struct GrownSites {
  const SiteTotals* before;
  report::RawProgramPoints raw;
};

void copy_grown_sites(const core::HeapModel& model, const core::StackTable& stacks, const core::Timeline&,
                      const core::RssTimeline&, std::uint64_t, void* context) {
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

}  // namespace

bool take_site_totals(SiteTotals* out) { return core::read_state(&copy_totals, out); }

std::string describe_grown_sites(const SiteTotals& before, std::size_t max_sites) {
  GrownSites grown{&before, {}};
  if (!core::read_state(&copy_grown_sites, &grown)) {
    return "";
  }
  const core::OwnLibcCall not_recorded;
  report::DwarfSymbolizer symbolizer;
  report::ProgramPoints points = report::build_program_points(std::move(grown.raw), symbolizer);
  std::sort(points.pps.begin(), points.pps.end(),
            [](const report::ProgramPoint& a, const report::ProgramPoint& b) { return a.totals.tbk > b.totals.tbk; });
  std::string text = "allocating call sites:\n";
  for (std::size_t i = 0; i < points.pps.size() && i < max_sites; ++i) {
    const report::ProgramPoint& point = points.pps[i];
    text += "  " + format::with_commas(point.totals.tbk) + " blocks, " + format::with_commas(point.totals.tb) +
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

}  // namespace dhat::runtime
