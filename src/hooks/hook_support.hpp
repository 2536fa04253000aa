// What the malloc and operator new/delete hooks share.
//
// Contract: a hook does the real work with the next allocator's entry points (next_allocator.hpp)
// and reports the result to the recorder only while a run is recording (one relaxed atomic load
// otherwise). Every hook is on
// the capture path (DHAT_CAPTURE_PATH) so that its frame is trimmed from the recorded stacks.
#pragma once

#include <cstddef>

#include "core/recorder.hpp"
#include "core/stack_capture.hpp"
#include "hooks/next_allocator.hpp"

#define DHAT_HOOK extern "C" DHAT_CAPTURE_PATH __attribute__((visibility("default")))

// DHAT_ENTRY_FRAME() (core/arch.hpp), in a hook's own body (not in a function it calls): where
// the hook's frame is, from which the walker finds the program's (see caller_frame_of).

namespace dhat::hooks {

// Returns `value` from a hook that passed DHAT_ENTRY_FRAME() to the call that produced it.
// Without it, GCC at -O2 turns `return new_or_throw(..., DHAT_ENTRY_FRAME())` into a jump: the
// hook's frame is popped before the callee runs, the callee's own pushes overwrite the saved
// rbp the walk starts from, and in a program built with frame pointers every walk began from a
// stray register value (each one then fell back to libgcc: 25x slower, and a wrong stack if the
// value happened to point into the stack).
template <typename T>
__attribute__((always_inline)) inline T keep_entry_frame(T value) noexcept {
  asm volatile("" : "+r"(value));  // the call is no longer in tail position
  return value;
}

// always_inline, even at -O0: a helper with a frame of its own outside `dhat_text` would end
// the trimming of the profiler's frames and show up as the allocation site.
//
// `entry_frame` is the frame of the hook the program called (DHAT_ENTRY_FRAME()
// in that hook): the stack walk starts at the program's own frame, so no profiler frame is
// unwound and none needs trimming.
__attribute__((always_inline)) inline void* note_alloc(void* block, std::size_t bytes,
                                                       core::EntryFrame entry_frame) noexcept {
  if (__builtin_expect(core::is_recording(), 0) && block != nullptr) {
    core::record_alloc(block, bytes, entry_frame);
  }
  return block;
}

// A free: `free_block()` hands the block back, and the free is recorded when `recorded` (a run
// records, and the call is the program's). A signal handler's free while its thread is inside
// the recorder is held, and the block handed back by `later` once that free is recorded
// (core/recorder.hpp: record_free_before_release).
//
// Always recorded before the block is handed back, one thread or many: freed first, a signal
// handler's malloc in between could be handed the address and recorded before the free (a
// single-threaded program then showed blocks live at the end that it had freed). Freeing first
// with one thread was meant to overlap the table lookup with the allocator's work; measured, it
// gained nothing (farm-bench, 7 alternating runs: json 0.98, sqlite 1.02, new_delete 0.98,
// stl_churn 1.00 without it).
// `later()` makes the DeferredRelease only where it is needed (made up front, as an argument, it
// cost every free five instructions, recorded or not).
template <typename Later, typename Free>
__attribute__((always_inline)) inline void release_via(bool recorded, void* block, Later&& later,
                                                       Free&& free_block) noexcept {
  if (__builtin_expect(recorded, 0) && block != nullptr) {
    core::prepare_free(block);
    if (core::record_free_before_release(block, later())) {
      return;  // held: `later` frees it
    }
  }
  free_block();
}

// A held free's release through the next allocator's free (what `release` would have called).
// A function, not a constant object: an object would be defined both in the sealed object and
// in the operator delete forms outside it (cmake/seal_object.cmake).
inline void free_later(void* block, const core::DeferredRelease& /*how*/) noexcept { real_free(block); }

__attribute__((always_inline)) inline void release(void* block) noexcept {
  release_via(
      core::is_recording(), block, [] { return core::DeferredRelease{&free_later}; }, [block] { real_free(block); });
}

}  // namespace dhat::hooks
