// Starting and finishing runs for the public API: the user's Profiler, and the private quiet
// runs that Sections and allocation checks start when no profiler is running.
//
// Contract: thread-safe (one mutex, never taken by the hooks); finishing holds it while the
// report is written, so exit() from another thread waits for a complete file.
#pragma once

#include <string>

#include "runtime/settings.hpp"
#include "runtime/text_sink.hpp"

namespace dhat::runtime {

// Starts a run with `settings`; false (and nothing changed) if one is running.
[[nodiscard]] bool start_run(RunSettings settings);
// The same with the settings that `options` and the environment say (resolve_settings).
[[nodiscard]] bool start_run(const Options& options);
// Preload mode: starts only the recorder, at the process's first allocation (before any library's
// constructor has run, whatever order the loader runs them in), with `settings`' recorder part.
// The run is completed by start_run(settings, /*adopt_early=*/true) from the preload library's
// constructor. False if a run is recording already.
[[nodiscard]] bool start_recording_early(const RunSettings& settings);
// As start_run, but taking over the recording start_recording_early began (if it did).
[[nodiscard]] bool start_run_adopting_early_recording(RunSettings settings);

// Stops the running run and writes its report (as its settings say). No-op when none runs.
void finish_run();

// Starts a quiet private heap run if nothing is running; true if it did (then the caller must
// call release_private_run()). Nested private users share one run.
[[nodiscard]] bool acquire_private_run();
void release_private_run();

// Writes the running profile now to `path` ("" = the snapshot default); false if none runs or
// the write failed (reported on stderr).
[[nodiscard]] bool write_snapshot_now(const std::string& path);

// A copy of the running run's settings; false when none runs.
[[nodiscard]] bool running_settings(RunSettings* out);

// Whether the running run is a testing-mode one (Profiler::builder().testing()).
[[nodiscard]] bool testing_run_is_running();
// For a failed dhat assertion: writes the testing-mode profile now (the run goes on) and sends
// `sink` a sentence naming the file, or saying why it could not be written. False, and nothing
// sent, when no testing-mode run is running.
[[nodiscard]] bool save_testing_profile(TextSink sink, void* context);

}  // namespace dhat::runtime
