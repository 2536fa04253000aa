// dhat::Profiler and dhat::HeapStats: the public API on top of the recorder.
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "api/run_report.hpp"
#include "api/settings.hpp"
#include "core/recorder.hpp"
#include "core/reentrancy_guard.hpp"
#include "dhat/dhat.hpp"
#include "hooks/hook_support.hpp"

namespace dhat {

namespace {

// Serializes starting and finishing runs (never taken by the hooks). Finishing holds it while
// the report is written, so exit() from another thread waits for a complete file.
std::mutex& api_mutex() {
  static std::mutex instance;
  return instance;
}

api::RunSettings& current_settings() {
  static api::RunSettings* settings = new api::RunSettings();  // outlives static destructors
  return *settings;
}

void finish_current_run() {
  core::ReentrancyGuard not_recorded;  // the report's own allocations are not the program's
  std::lock_guard<std::mutex> hold(api_mutex());
  if (core::stop_recording()) {
    api::write_report_and_release(current_settings());
  }
}

// exit() while a Profiler is alive skips its destructor (it lives on main's stack).
void finish_at_exit() { finish_current_run(); }

}  // namespace

Profiler::Profiler(const Options& options) {
  hooks::ensure_linked();
  core::ReentrancyGuard not_recorded;  // nor are the profiler's own set-up allocations
  api::RunSettings settings = api::resolve_settings(options);
  std::lock_guard<std::mutex> hold(api_mutex());
  if (!core::start_recording(core::RecorderSettings{settings.max_frames})) {
    std::fputs("dhat: error: a dhat::Profiler is already running; this second one records nothing\n", stderr);
    return;
  }
  current_settings() = std::move(settings);
  static bool exit_hook_installed = false;
  if (!exit_hook_installed) {
    exit_hook_installed = std::atexit(&finish_at_exit) == 0;
  }
  owns_run_ = true;
}

Profiler::~Profiler() {
  if (owns_run_) {
    finish_current_run();
  }
}

HeapStats HeapStats::get() noexcept {
  const core::GlobalCounters c = core::current_counters();
  HeapStats stats;
  stats.total_blocks = c.total_blocks;
  stats.total_bytes = c.total_bytes;
  stats.curr_blocks = c.curr_blocks;
  stats.curr_bytes = c.curr_bytes;
  stats.max_blocks = c.max_blocks;
  stats.max_bytes = c.max_bytes;
  return stats;
}

}  // namespace dhat
