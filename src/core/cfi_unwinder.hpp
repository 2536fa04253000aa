// A fast, exact stack walker for x86-64: DWARF call-frame information (the same .eh_frame data
// libgcc's unwinder uses), evaluated once per return address and cached.
//
// Contract: `cfi_capture` fills `out` with the same return addresses _Unwind_Backtrace would give,
// or returns false (having filled nothing useful) when it meets a frame whose rule it does not
// model (CFA not based on rsp/rbp, expressions, signal frames, a register-held rbp); the caller
// then falls back to libgcc. Never allocates, never locks: the rule cache is a fixed table of
// atomics. `explain_rule` exposes the rule computation to tests.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/stack_capture.hpp"

namespace dhat::core {

// How to get from a frame at `ip` to its caller: CFA = (rbp or rsp) + cfa_offset; the return
// address is at CFA - 8; the caller's rbp is saved at CFA + rbp_offset, or unchanged.
struct UnwindRule {
  bool valid = false;
  bool outermost = false;  // the return address is undefined: the stack ends here (_start, clone3)
  bool cfa_from_rbp = false;
  std::int32_t cfa_offset = 0;
  bool rbp_saved = false;
  std::int32_t rbp_offset = 0;
};

// The rule for the code at `lookup_pc` (a return address - 1, or an exact pc).
UnwindRule explain_rule(std::uintptr_t lookup_pc) noexcept;

// Walks the stack of the calling function's caller upwards; see stack_capture.hpp for trimming.
bool cfi_capture(RawStack& out, std::size_t max_frames, bool (*is_profiler_frame)(std::uintptr_t)) noexcept;

}  // namespace dhat::core
