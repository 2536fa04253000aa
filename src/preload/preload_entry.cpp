// The preload library's entry: LD_PRELOAD=libdhat-preload.so (or `dhat-run`) profiles an
// unmodified, dynamically linked program from load to exit. The hooks are the linked mode's own
// (this library exports malloc and operator new, which take precedence over glibc's and
// libstdc++'s because it is loaded first); recording starts at the process's first allocation
// (below), a load-time constructor completes the run, and the atexit handler that it installs
// writes the profile after the program's own exit handlers.
#include <cstdio>
#include <cstdlib>
#include <new>

#include "runtime/early_start.hpp"

#include "runtime/exit_messages.hpp"
#include "runtime/run_control.hpp"
#include "runtime/settings.hpp"

namespace dhat::preload {

namespace {

Options preload_options() {
  Options options;
  if (std::getenv("DHAT_OUT") == nullptr) {
    options.file_name = runtime::kDefaultPreloadFileName;  // one file per process: fork/exec safe
  }
  return options;
}

// The settings the first allocation started recording with; the constructor completes the run
// with the same ones (their warnings, if any, said once). Never freed: the profiler's own pages.
runtime::RunSettings* g_early_settings = nullptr;
// Set when the constructor runs: from then on it starts (or has started) the run itself.
bool g_constructor_ran = false;

}  // namespace

}  // namespace dhat::preload

namespace dhat::preload {

namespace {}  // namespace

}  // namespace dhat::preload

// Called by the hooks (src/hooks/next_allocator.cpp) at the process's first allocation, which
// comes before the constructors of the program's libraries (libstdc++'s exception pool, a
// library's static objects) and, in the loader's order, often before this library's own: so
// recording starts there, and every block from the first is in the profile. False (ask again at
// the next one) for libstdc++'s own start-up when only this library needs libstdc++.
extern "C" __attribute__((visibility("hidden"))) bool dhat_preload_first_allocation() noexcept {
  using namespace dhat;
  if (preload::g_constructor_ran || runtime::is_unprofiled_child_of_dhat_run()) {
    return true;  // started by the constructor; or dhat-run --no-children: only its program
  }
  if (runtime::is_profilers_own_libstdcxx_starting()) {
    return false;
  }
  preload::g_early_settings =
      new (std::nothrow) runtime::RunSettings(runtime::resolve_settings(preload::preload_options()));
  if (preload::g_early_settings == nullptr) {
    return true;  // no memory: the constructor starts the run, as before
  }
  if (!runtime::start_recording_early(*preload::g_early_settings)) {
    delete preload::g_early_settings;
    preload::g_early_settings = nullptr;
  }
  return true;
}

namespace dhat::preload {

namespace {

// Priority 101: before the program's and other libraries' ordinary constructors. Completes the
// run that the first allocation started (or starts one, if no allocation came first).
__attribute__((constructor(101))) void start_profiling_at_load() {
  g_constructor_ran = true;
  if (runtime::is_unprofiled_child_of_dhat_run()) {
    return;  // dhat-run --no-children: only the started program is profiled
  }
  const bool started = g_early_settings != nullptr ? runtime::start_run_adopting_early_recording(*g_early_settings)
                                                   : runtime::start_run(runtime::resolve_settings(preload_options()));
  if (!started) {
    std::fputs("dhat: error: a profile is already running in this process; dhat-run records nothing\n", stderr);
  }
}

}  // namespace

}  // namespace dhat::preload
