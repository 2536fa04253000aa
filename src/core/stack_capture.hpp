// Capturing the allocating thread's stack as raw return addresses.
//
// Contract: never allocates through the hooks (a nested allocation by the unwinder is passed
// through by the ReentrancyGuard), takes no profiler lock, and drops the profiler's own frames
// from the top: every function on the capture path is placed in the `dhat_text` section with
// DHAT_CAPTURE_PATH, and leading frames whose address lies in that section are skipped. So the
// first address kept is the return address into whoever called malloc/new.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/arch.hpp"  // CallerFrame, EntryFrame, caller_frame_of

// Marks a function that can be on the stack while a capture runs (hooks, recorder entry points).
#define DHAT_CAPTURE_PATH __attribute__((section("dhat_text"), noinline))

namespace dhat::core {

// Upper bound of frames per program point (Options::max_frames is clamped to it).
inline constexpr std::size_t kMaxFramesLimit = 128;

struct RawStack {
  std::uintptr_t frames[kMaxFramesLimit];
  std::uint32_t depth = 0;
};

enum class Unwinder : int {
  cfi_cache = 0,  // the default: cached DWARF CFI rules (cfi_unwinder.hpp), libgcc as fallback
  libgcc = 1,     // _Unwind_Backtrace for every frame (DHAT_UNWINDER=libgcc): slow, the reference
};
void set_unwinder(Unwinder unwinder) noexcept;

// Fills `out` with at most `max_frames` return addresses, innermost first.
void capture_stack(RawStack& out, std::size_t max_frames) noexcept;
// The same with a chosen unwinder (tests compare them).
void capture_stack_with(RawStack& out, std::size_t max_frames, Unwinder unwinder) noexcept;

// Whether `address` lies in the profiler's capture path (the `dhat_text` section: the hooks and
// what they call on the way to a stack walk).
bool in_capture_path(std::uintptr_t address) noexcept;

// Hash of a stack's addresses (also used by the stack table).
std::uint64_t hash_stack(const std::uintptr_t* frames, std::uint32_t depth) noexcept;

}  // namespace dhat::core
