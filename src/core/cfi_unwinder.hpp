// A fast, exact stack walker (x86-64 and AArch64): DWARF call-frame information (the same
// .eh_frame data libgcc's unwinder uses), evaluated once per return address (dwarf_cfi.hpp) and
// cached here.
//
// Contract: `cfi_capture` fills `out` with the same return addresses _Unwind_Backtrace would give,
// or returns false (having filled nothing useful) when it meets a frame whose rule it does not
// model (CFA not based on the stack or frame pointer, expressions, signal frames, a frame pointer
// or return address held in a register); the caller
// then falls back to libgcc. Never allocates, never locks: the rule cache is a fixed table of
// atomics. The rules come from dwarf_cfi.hpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dwarf_cfi.hpp"
#include "core/stack_capture.hpp"

namespace dhat::core {

// Walks the stack of the calling function's caller upwards; see stack_capture.hpp for trimming.
[[nodiscard]] bool cfi_capture(RawStack& out, std::size_t max_frames,
                               bool (*is_profiler_frame)(std::uintptr_t)) noexcept;

// What a walk used, so that a later walk from the same place can be checked instead of redone:
// the packed rule of each recorded frame, and whether the walk ended on a zero return address.
struct WalkTrace {
  std::uint64_t rules[kMaxFramesLimit];
  bool ends_with_zero = false;
};

// Walks upwards from `start` (no trimming), recording what it used into `trace` if given.
[[nodiscard]] bool cfi_walk(const CallerFrame& start, RawStack& out, std::size_t max_frames, WalkTrace* trace) noexcept;

// True if walking from `start` now gives exactly `frames` (as a walk traced into `rules` and
// `ends_with_zero` did): the same registers and return addresses, with the remembered rules
// instead of cache lookups. A few loads and compares per frame.
[[nodiscard]] bool cfi_same_walk(const CallerFrame& start, const std::uintptr_t* frames, const std::uint64_t* rules,
                                 std::uint32_t depth, bool ends_with_zero, std::size_t max_frames) noexcept;

}  // namespace dhat::core
