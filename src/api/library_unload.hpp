// Before a library is unloaded (dlclose), resolve the recorded return addresses that point into
// it, so the final report can still name those frames.
//
// Contract: called by the dlclose hook before the real dlclose; does nothing unless a run
// records; never throws; its own allocations are not recorded.
#pragma once

namespace dhat::api {

void before_library_unload(void* handle) noexcept;

}  // namespace dhat::api
