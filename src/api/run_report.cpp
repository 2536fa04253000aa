#include "api/run_report.hpp"

#include <unistd.h>

#include <cstdio>
#include <exception>
#include <fstream>
#include <iterator>

#include "core/recorder.hpp"
#include "report/backward_symbolizer.hpp"
#include "report/dhat_json.hpp"
#include "report/summary.hpp"

namespace dhat::api {

namespace {

std::string command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!raw.empty() && raw.back() == '\0') {
    raw.pop_back();
  }
  for (char& c : raw) {
    if (c == '\0') {
      c = ' ';
    }
  }
  return raw;
}

std::vector<report::RawProgramPoint> copy_program_points() {
  const core::HeapModel& model = core::frozen_model();
  const core::StackTable& stacks = core::frozen_stacks();
  std::vector<report::RawProgramPoint> raw;
  raw.reserve(model.pp_count());
  for (core::PpId id = 0; id < model.pp_count(); ++id) {
    const core::PpCounters& c = model.pp(id);
    report::RawProgramPoint point;
    point.totals = report::PpTotals{c.total_bytes, c.total_blocks, c.total_lifetime_us, c.max_bytes,  c.max_blocks,
                                    c.gmax_bytes,  c.gmax_blocks,  c.curr_bytes,        c.curr_blocks};
    point.return_addresses.assign(stacks.frames(id), stacks.frames(id) + stacks.depth(id));
    raw.push_back(std::move(point));
  }
  return raw;
}

}  // namespace

std::string find_stock_viewer() {
  const char* from_env = std::getenv("DHAT_VIEWER");
  if (from_env != nullptr && access(from_env, R_OK) == 0) {
    return from_env;
  }
  for (const char* candidate : {"/usr/libexec/valgrind/dh_view.html", "/usr/lib/valgrind/dh_view.html",
                                "/usr/local/libexec/valgrind/dh_view.html", "/usr/local/lib/valgrind/dh_view.html"}) {
    if (access(candidate, R_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

void write_report_and_release(const RunSettings& settings) {
  try {
    const core::GlobalCounters global = core::frozen_model().global();
    const std::size_t dropped = core::dropped_events();
    std::vector<report::RawProgramPoint> raw = copy_program_points();
    core::release_recording();

    report::BackwardSymbolizer symbolizer;
    const report::ProgramPoints points = report::build_program_points(raw, symbolizer);
    report::ProfileHeader header;
    header.cmd = command_line();
    header.pid = static_cast<long>(getpid());
    header.tg_us = global.tgmax_us;
    header.te_us = global.tend_us;
    const std::string reason = report::write_file_atomically(settings.file_name, report::to_dhat_json(header, points));

    std::string text =
        report::format_summary(report::SummaryNumbers{global.total_bytes, global.total_blocks, global.max_bytes,
                                                      global.max_blocks, global.curr_bytes, global.curr_blocks});
    if (dropped != 0) {
      text += "dhat: warning: " + std::to_string(dropped) + " events were not recorded (out of memory)\n";
    }
    if (reason.empty()) {
      const std::string viewer = find_stock_viewer();
      text += "dhat: The data has been saved to " + settings.file_name + ", and is viewable with " +
              (viewer.empty() ? std::string("Valgrind's dh_view.html") : viewer) + "\n";
    } else {
      text += "dhat: error: could not write the profile to '" + settings.file_name + "': " + reason + "\n";
    }
    std::fputs(text.c_str(), stderr);
  } catch (const std::exception& error) {
    core::release_recording();
    std::fprintf(stderr, "dhat: error: could not write the profile: %s\n", error.what());
  } catch (...) {
    core::release_recording();
    std::fputs("dhat: error: could not write the profile\n", stderr);
  }
}

}  // namespace dhat::api
