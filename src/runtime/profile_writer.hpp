// Writing a profile while the run goes on (a snapshot, a testing-mode save) on a thread of the
// profiler's own.
//
// Why: the calling thread belongs to the program. Written there, the whole write runs inside a
// ReentrancyGuard (libdw's and libc's allocations are the profiler's), and a signal handler
// that allocated on that thread meanwhile was passed through unrecorded: its events could not
// be told from the profiler's. The caller now only waits (in sem_wait, outside the profiler),
// so its handlers' events are recorded as anywhere else; the writer thread blocks every
// asynchronous signal (profiler_thread.hpp).
//
// Contract: one write at a time (callers queue on a mutex); the writer is started at the first
// write of a process (again in a forked child) and parks between writes. Where no thread can be
// started, or inside dlclose (the writer would wait for the loader's lock the caller holds),
// the caller writes itself, as before.
#pragma once

#include <string>

#include "runtime/run_report.hpp"
#include "runtime/settings.hpp"

namespace dhat::runtime {

[[nodiscard]] WrittenProfile write_profile_apart(const RunSettings& settings, const std::string& path);

}  // namespace dhat::runtime
