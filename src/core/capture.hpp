// From a hook's frame to a program point: the stack walk, the thread's memo of recent walks,
// and interning into the run's stack table.
//
// Contract: runs before any recorder lock is taken (only the stack table's own lock, and only
// for a stack not seen before). A capture belongs to the run it was made in (`generation`): its
// program point means nothing in another run, and the recorder drops it then. Never allocates
// through the hooks.
#pragma once

#include <cstdint>

#include "core/cfi_unwinder.hpp"
#include "core/recorder_state.hpp"
#include "core/stack_capture.hpp"
#include "core/stack_memo.hpp"

namespace dhat::core {

// A captured stack, or the memo entry that already knows its program point.
struct CapturedStack {
  RawStack stack;
  WalkTrace trace;
  StackMemoEntry* memo = nullptr;  // where to remember this walk (cfi walks from a known caller)
  bool memo_hit = false;           // memo->pp is this stack's program point
  std::uint32_t generation = 0;    // the run the capture was made for
};

// Walks from the program's frame (`entry_frame`, the hook's own frame address; null: from here,
// trimming the profiler's frames), unless this thread's memo already knows the walk.
void capture(const RecorderState& s, CapturedStack& c, EntryFrame entry_frame) noexcept;

// Interns `stack` into run `generation`'s table; kNoPp if memory ran out or another run has
// started since the stack was captured. Takes the stack table's lock.
[[nodiscard]] PpId intern_stack(RecorderState& s, const RawStack& stack, std::uint32_t generation) noexcept;

// The program point of a capture not found in the memo, remembering the walk.
[[nodiscard]] PpId intern_and_remember(RecorderState& s, CapturedStack& c) noexcept;

// The program point of a captured stack (in the capture's run).
[[nodiscard]] __attribute__((always_inline)) inline PpId program_point_of(RecorderState& s, CapturedStack& c) noexcept {
  return c.memo_hit ? c.memo->pp : intern_and_remember(s, c);
}

}  // namespace dhat::core
