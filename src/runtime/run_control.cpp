#include "runtime/run_control.hpp"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "core/recorder.hpp"
#include "core/reentrancy_guard.hpp"
#include "core/signals_blocked.hpp"
#include "report/output_file.hpp"
#include "runtime/exit_messages.hpp"
#include "runtime/library_unload.hpp"
#include "runtime/profile_writer.hpp"
#include "runtime/profiler_thread.hpp"
#include "runtime/run_report.hpp"
#include "runtime/snapshot_signal.hpp"

namespace dhat::runtime {

namespace {

std::mutex& run_mutex() {
  static std::mutex instance;
  return instance;
}

// Heap-allocated and never freed: must outlive static destructors that may still finish a run.
RunSettings& active_settings() {
  static auto* settings = new RunSettings();
  return *settings;
}

int g_private_users = 0;

// Whether "no profiler is running" was said since the last run started: requests that keep
// coming (a loop, snapshot signals still queued at exit) get one line, not one each.
std::atomic<bool> g_said_no_run{false};

void* write_report_on_this_thread(void* settings) {
  write_report_and_release(*static_cast<const RunSettings*>(settings));
  return nullptr;
}

// The report is written by a short-lived thread of its own, so that its allocations come from
// a fresh glibc arena. In the program's arena, the report's first large request makes glibc
// consolidate every small block the program freed into its fast bins: growing_heap leaves
// three million there at exit, and that pass took 0.4 s of a 2.6 s run (perf: unlink_chunk
// 3,036,340 calls with the report, 1,186 without). Falls back to this thread if no thread can
// be started, or inside dlclose (the other thread would wait on the loader's lock it holds).
void write_report(RunSettings& settings) {
  pthread_t reporter;
  if (!inside_dlclose() && start_profiler_thread(&reporter, nullptr, &write_report_on_this_thread, &settings) == 0) {
    pthread_join(reporter, nullptr);
    return;
  }
  write_report_and_release(settings);
}

void finish_locked() {
  if (core::stop_recording()) {
    write_report(active_settings());
  }
}

// exit() while a Profiler is alive skips its destructor (it lives on main's stack).
void finish_at_exit() { finish_run(); }

core::RecorderSettings recorder_settings(const RunSettings& settings) {
  const core::Unwinder unwinder = settings.libgcc_unwinder ? core::Unwinder::libgcc : core::Unwinder::cfi_cache;
  return core::RecorderSettings{settings.max_frames, settings.ad_hoc, unwinder};
}

// Whether start_recording_early's recording waits for its run to be completed.
bool g_early_recording = false;

bool start_run_locked(RunSettings settings, bool adopt_early) {
  if (!(adopt_early && g_early_recording) && !core::start_recording(recorder_settings(settings))) {
    return false;
  }
  g_early_recording = false;
  // Names are resolved now: a program that changes directory (or `git -C DIR`) still writes
  // where it was started, and every message names the file in full.
  settings.start_directory = report::current_directory();
  settings.file_name = report::absolute_path(settings.file_name);
  // A program that exits with every descriptor in use still gets its profile.
  static_cast<void>(report::reserve_output_descriptor());
  keep_stderr();  // the summary must still reach the user if the program closes stderr at exit
  active_settings() = std::move(settings);
  g_said_no_run.store(false, std::memory_order_relaxed);
  install_snapshot_signal();
  static bool exit_hook_installed = false;
  if (!exit_hook_installed) {
    exit_hook_installed = std::atexit(&finish_at_exit) == 0;
  }
  return true;
}

}  // namespace

bool start_run(RunSettings settings) {
  const core::OwnLibcCall not_recorded;  // the profiler's own set-up allocations
  std::lock_guard<std::mutex> hold(run_mutex());
  return start_run_locked(std::move(settings), false);
}

bool start_run(const Options& options) { return start_run(resolve_settings(options)); }

bool start_recording_early(const RunSettings& settings) {
  const core::OwnLibcCall not_recorded;
  std::lock_guard<std::mutex> hold(run_mutex());
  g_early_recording = core::start_recording(recorder_settings(settings));
  return g_early_recording;
}

bool start_run_adopting_early_recording(RunSettings settings) {
  const core::OwnLibcCall not_recorded;
  std::lock_guard<std::mutex> hold(run_mutex());
  return start_run_locked(std::move(settings), true);
}

void finish_run() {
  core::ReentrancyGuard not_recorded;
  std::lock_guard<std::mutex> hold(run_mutex());
  finish_locked();
}

bool acquire_private_run() {
  const core::OwnLibcCall not_recorded;
  std::lock_guard<std::mutex> hold(run_mutex());
  if (g_private_users > 0) {
    ++g_private_users;
    return true;
  }
  RunSettings settings;
  settings.quiet_private = true;
  // A private run writes no profile: nothing would show its RSS.
  if (!core::start_recording(
          core::RecorderSettings{settings.max_frames, false, core::Unwinder::cfi_cache, true, /*record_rss=*/false})) {
    return false;
  }
  active_settings() = settings;
  g_private_users = 1;
  return true;
}

void release_private_run() {
  core::ReentrancyGuard not_recorded;
  std::lock_guard<std::mutex> hold(run_mutex());
  if (g_private_users > 0 && --g_private_users == 0) {
    finish_locked();
  }
}

// No ReentrancyGuard here: this thread makes no allocation through the hooks (the sealed code's
// strings are the profiler's own memory) and only waits while the writer writes, so a signal
// handler's events meanwhile are recorded (profile_writer.hpp).
bool write_snapshot_now(const std::string& path) {
  RunSettings settings;
  if (!running_settings(&settings)) {
    if (!g_said_no_run.exchange(true, std::memory_order_relaxed)) {
      std::fputs("dhat: no profiler is running; no snapshot written\n", stderr);
    }
    return false;
  }
  // A name given now means a place in today's directory; the default one, where the run started.
  const std::string target =
      path.empty() && !settings.start_directory.empty()
          ? settings.start_directory + "/" + expand_file_pattern(kDefaultSnapshotFileName, getpid())
          : report::absolute_path(expand_file_pattern(path, static_cast<long>(getpid())));
  const WrittenProfile written = write_profile_apart(settings, target);
  if (!written.error.empty()) {
    std::fprintf(stderr, "dhat: error: could not write the snapshot to '%s': %s\n", target.c_str(),
                 written.error.c_str());
    return false;
  }
  if (!settings.quiet_private && !settings.testing) {
    std::fprintf(stderr, "dhat: snapshot saved to %s\n", target.c_str());
  }
  return true;
}

bool running_settings(RunSettings* out) {
  std::lock_guard<std::mutex> hold(run_mutex());
  if (!core::is_recording() && !core::is_ad_hoc_run()) {
    return false;
  }
  *out = active_settings();
  return true;
}

bool testing_run_is_running() {
  RunSettings settings;
  return running_settings(&settings) && settings.testing;
}

bool save_testing_profile(TextSink sink, void* context) {
  RunSettings settings;  // no ReentrancyGuard: as in write_snapshot_now
  if (!running_settings(&settings) || !settings.testing) {
    return false;
  }
  const std::string path = expand_file_pattern(settings.file_name, static_cast<long>(getpid()));
  const WrittenProfile written = write_profile_apart(settings, path);
  const std::string sentence = written.error.empty()
                                   ? "the profile has been saved to " + path
                                   : "the profile could not be written to '" + path + "': " + written.error;
  sink(context, sentence.data(), sentence.size());
  return true;
}

}  // namespace dhat::runtime
