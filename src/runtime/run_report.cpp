#include "runtime/run_report.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <utility>

#include "core/recorder.hpp"
#include "core/reentrancy_guard.hpp"
#include "format/stock_viewer.hpp"
#include "report/dhat_json.hpp"
#include "report/dwarf_symbolizer.hpp"
#include "report/output_file.hpp"
#include "report/summary.hpp"
#include "runtime/exit_messages.hpp"

namespace dhat::runtime {

namespace {

std::string command_line() {
  std::string raw;
  const int fd = report::open_using_reserve("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char chunk[4096];
    for (ssize_t n = 0; (n = read(fd, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR);) {
      if (n > 0) {
        raw.append(chunk, static_cast<std::size_t>(n));
      }
    }
    report::close_using_reserve(fd);
  }
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

struct CopiedState {
  core::GlobalCounters global;
  report::RawProgramPoints raw;
  report::HeapTimeline timeline;
  report::ResidentMemory rss;
};

void copy_levels(const core::Timeline& from, report::HeapTimeline* to) {
  to->bucket_us = from.bucket_us();
  for (std::size_t i = 0; i < from.used(); ++i) {
    to->max_bytes.push_back(from.max_bytes(i));
    to->end_bytes.push_back(from.end_bytes(i));
  }
}

// Runs under the recorder's lock: copy numbers and addresses, nothing more.
void copy_state(const core::HeapModel& model, const core::StackTable& stacks, const core::Timeline& timeline,
                const core::RssTimeline& rss, std::uint64_t now_us, void* context) {
  auto* out = static_cast<CopiedState*>(context);
  copy_levels(timeline, &out->timeline);
  if (rss.available()) {
    copy_levels(rss.levels(), &out->rss.levels);
    out->rss.peak_bytes = rss.peak_bytes();
  }
  out->global = model.global();
  out->global.tend_us = now_us;
  out->raw.reserve(model.pp_count());
  for (core::PpId id = 0; id < model.pp_count(); ++id) {
    const core::PpCounters c = model.counters_at(id, now_us);
    out->raw.add(report::PpTotals{c.total_bytes, c.total_blocks, c.total_lifetime_us, c.max_bytes, c.max_blocks,
                                  c.gmax_bytes, c.gmax_blocks, c.curr_bytes, c.curr_blocks, c.temporary_blocks},
                 stacks.frames(id), stacks.depth(id));
  }
}

std::string summary_of(const RunSettings& settings, const core::GlobalCounters& g) {
  if (settings.ad_hoc) {
    return report::format_ad_hoc_summary(g.total_bytes, g.total_blocks);
  }
  return report::format_summary(
      report::SummaryNumbers{g.total_bytes, g.total_blocks, g.max_bytes, g.max_blocks, g.curr_bytes, g.curr_blocks});
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Consumes `state.raw` (it is freed once the program points are built).
WrittenProfile write_copied(const RunSettings& settings, const std::string& path, CopiedState& state) {
  WrittenProfile written;
  written.copied = true;
  const auto start = std::chrono::steady_clock::now();
  const report::DescriptorHeadroom headroom;  // a program may end with every descriptor in use
  report::DwarfSymbolizer symbolizer;
  const std::size_t stacks = state.raw.size();
  const report::ProgramPoints points = report::build_program_points(std::move(state.raw), symbolizer);
  const double symbolize_seconds = seconds_since(start);
  report::ProfileHeader header;
  header.ad_hoc = settings.ad_hoc;
  header.mode = settings.ad_hoc ? "cpp-ad-hoc" : "cpp-heap";
  header.cmd = command_line();
  header.pid = static_cast<long>(getpid());
  header.tg_us = state.global.tgmax_us;
  header.te_us = state.global.tend_us;
  header.timeline = state.timeline;
  header.rss = state.rss;
  written.error = report::write_dhat_json_file(path, header, points);
  written.summary = summary_of(settings, state.global);
  if (headroom.exhausted()) {
    written.summary +=
        "dhat: warning: the process had no file descriptor left for the symbolizer: frames are shown as addresses\n";
  }
  if (settings.report_timing) {
    char line[256];
    std::snprintf(line, sizeof line,
                  "dhat: timing: %zu stacks, %zu addresses (%zu outside every DWARF unit, named by "
                  "backward-cpp) -> %zu program points: symbolized in %.3f s, "
                  "written in %.3f s; %zu stack walks needed libgcc; threads %s\n",
                  stacks, symbolizer.addresses_resolved(), symbolizer.fallbacks(), points.pps.size(), symbolize_seconds,
                  seconds_since(start) - symbolize_seconds, core::libgcc_walks(),
                  core::threads_buffer_events() ? "buffer their events" : "take a lock per event");
    written.summary += line;
  }
  return written;
}

}  // namespace

WrittenProfile write_profile(const RunSettings& settings, const std::string& path) {
  core::ReentrancyGuard not_recorded;  // the report's own allocations are not the program's
  try {
    CopiedState state;
    if (!core::read_state(&copy_state, &state)) {
      return WrittenProfile{};
    }
    return write_copied(settings, path, state);
  } catch (const std::exception& error) {
    WrittenProfile failed;
    failed.copied = true;
    failed.error = error.what();
    return failed;
  }
}

void write_report_and_release(const RunSettings& settings) {
  core::ReentrancyGuard not_recorded;
  if (settings.quiet_private || settings.testing || is_unprofiled_child_of_dhat_run()) {
    // Testing mode writes only when an assertion fails; private runs never write; nor does a
    // process forked by dhat-run's program under --no-children.
    core::release_recording();
    return;
  }
  try {
    CopiedState state;
    const bool copied = core::read_state(&copy_state, &state);
    const std::size_t dropped = core::dropped_events();
    const std::size_t interrupted = core::unrecorded_handler_events();
    core::release_recording();
    if (!copied) {
      return;
    }
    const std::string path = expand_file_pattern(settings.file_name, static_cast<long>(getpid()));
    const WrittenProfile written = write_copied(settings, path, state);
    // A process that dhat-run's program started says only what went wrong; the program itself
    // says how many of them wrote a profile (exit_messages.hpp).
    const bool child = is_child_of_dhat_run();
    std::string text = child ? std::string() : written.summary;
    if (dropped != 0) {
      text += "dhat: warning: " + std::to_string(dropped) + " events were not recorded (out of memory)\n";
    }
    if (interrupted != 0) {
      text += "dhat: warning: " + std::to_string(interrupted) +
              " heap events of signal handlers that interrupted their thread inside the profiler were not "
              "recorded (more at once than it holds)\n";
    }
    if (!written.error.empty()) {
      text += "dhat: error: could not write the profile to '" + path + "': " + written.error + "\n";
    } else if (child) {
      note_child_profile(path);
    } else if (!dhat_run_merges()) {
      const std::string viewer = format::find_stock_viewer();
      text += "dhat: The data has been saved to " + path + ", and is viewable with " +
              (viewer.empty() ? std::string("Valgrind's dh_view.html") : viewer) + "\n";
    }
    if (!dhat_run_merges()) {
      text += children_line();
    }
    say(text);
  } catch (const std::exception& error) {
    core::release_recording();
    say(std::string("dhat: error: could not write the profile: ") + error.what() + "\n");
  } catch (...) {
    core::release_recording();
    say("dhat: error: could not write the profile\n");
  }
}

}  // namespace dhat::runtime
