// dhat::Profiler, dhat::HeapStats, dhat::AdHocStats, dhat::ad_hoc_event: the public API on top
// of the recorder.
#include <cstdio>

#include "core/recorder.hpp"
#include "dhat/dhat.hpp"
#include "runtime/run_control.hpp"

namespace dhat {

Profiler::Profiler(const Options& options) {
  if (!runtime::start_run(options)) {
    std::fputs("dhat: error: a dhat::Profiler is already running; this second one records nothing\n", stderr);
    return;
  }
  owns_run_ = true;
}

Profiler::~Profiler() {
  if (owns_run_) {
    runtime::finish_run();
  }
}

HeapStats HeapStats::get() noexcept {
  HeapStats stats;
  if (core::is_ad_hoc_run()) {
    return stats;
  }
  const core::GlobalCounters c = core::current_counters();
  stats.total_blocks = c.total_blocks;
  stats.total_bytes = c.total_bytes;
  stats.curr_blocks = c.curr_blocks;
  stats.curr_bytes = c.curr_bytes;
  stats.max_blocks = c.max_blocks;
  stats.max_bytes = c.max_bytes;
  return stats;
}

AdHocStats AdHocStats::get() noexcept {
  AdHocStats stats;
  if (!core::is_ad_hoc_run()) {
    return stats;
  }
  const core::GlobalCounters c = core::current_counters();
  stats.total_events = c.total_blocks;
  stats.total_units = c.total_bytes;
  return stats;
}

namespace detail {
DHAT_CAPTURE_PATH void record_ad_hoc_event(std::uint64_t weight) noexcept { core::record_ad_hoc_event(weight); }
}  // namespace detail

bool write_snapshot(const std::string& path) { return runtime::write_snapshot_now(path); }

}  // namespace dhat
