// The preload library's entry: LD_PRELOAD=libdhat-preload.so (or `dhat-run`) profiles an
// unmodified, dynamically linked program from load to exit. The hooks are the linked mode's own
// (this library exports malloc and operator new, which take precedence over glibc's and
// libstdc++'s because it is loaded first); a load-time constructor starts the run and the atexit
// handler that start_run installs writes the profile after the program's own exit handlers.
#include <cstdio>
#include <cstdlib>

#include "runtime/exit_messages.hpp"
#include "runtime/run_control.hpp"
#include "runtime/settings.hpp"

namespace dhat::preload {

namespace {

// Priority 101: before the program's and other libraries' ordinary constructors, so their
// allocations (made "before main") are recorded too.
__attribute__((constructor(101))) void start_profiling_at_load() {
  if (runtime::is_unprofiled_child_of_dhat_run()) {
    return;  // dhat-run --no-children: only the started program is profiled
  }
  Options options;
  if (std::getenv("DHAT_OUT") == nullptr) {
    options.file_name = runtime::kDefaultPreloadFileName;  // one file per process: fork/exec safe
  }
  if (!runtime::start_run(runtime::resolve_settings(options))) {
    std::fputs("dhat: error: a profile is already running in this process; dhat-run records nothing\n", stderr);
  }
}

}  // namespace

}  // namespace dhat::preload
