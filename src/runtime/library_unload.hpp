// Before a library is unloaded (dlclose), resolve the recorded return addresses that point into
// it, so the final report can still name those frames.
//
// Contract: called by the dlclose hook before the real dlclose; does nothing unless a run
// records; never throws; its own allocations are not recorded.
#pragma once

namespace dhat::runtime {

void before_library_unload(void* handle) noexcept;

// Whether this thread is inside dlclose (set by the hook around the real call). The dynamic
// loader's lock is held there, and a run finished by a destructor of the library being unloaded
// must not hand its report to another thread (which would wait on that lock).
void set_inside_dlclose(bool inside) noexcept;
bool inside_dlclose() noexcept;

}  // namespace dhat::runtime
