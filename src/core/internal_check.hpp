// DHAT_INTERNAL_CHECK(condition): an invariant of the recorder, checked at run time in builds
// configured with DHAT_INTERNAL_CHECKS=ON (the ubsan, asan and tsan presets) and compiled but
// never evaluated otherwise.
//
// Contract: a failed check writes one `dhat: internal check failed: FILE:LINE: CONDITION` line
// on stderr with write(2) (no allocation: it may fire inside a malloc hook) and aborts. Checks
// state what must hold for the profile to be exact (the lock is held, the phase is right, events
// are merged in stamp order, ring positions are in bounds): a failure is a bug in dhat-cpp.
#pragma once

namespace dhat::core {

[[noreturn]] void internal_check_failed(const char* condition, const char* file, int line) noexcept;

}  // namespace dhat::core

#if defined(DHAT_INTERNAL_CHECKS) && DHAT_INTERNAL_CHECKS
#define DHAT_INTERNAL_CHECK(condition) \
  ((condition) ? static_cast<void>(0) : ::dhat::core::internal_check_failed(#condition, __FILE__, __LINE__))
#else
// Still compiled (so a check cannot rot), never evaluated.
#define DHAT_INTERNAL_CHECK(condition) static_cast<void>(sizeof(!(condition)))
#endif
