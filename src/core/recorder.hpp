// The recorder: the one place where the hooks' events meet the profile's state.
//
// Contract: every function is safe to call from any thread at any time, never allocates through
// the hooks, and never throws. Events arriving while no run is recording (before start, during
// and after stop) are ignored, so hooks may call in unconditionally after the cheap
// `is_recording()` check. A stack is captured before the lock is taken; the lock guards only
// table updates. After `stop()` the model is frozen: the report reads it without the lock until
// `release()`; a new run may start only after that.
#pragma once

#include <atomic>
#include <cstddef>

#include "core/heap_model.hpp"
#include "core/live_table.hpp"
#include "core/stack_table.hpp"

namespace dhat::core {

enum class Phase : int { idle = 0, recording = 1, stopped = 2 };

extern std::atomic<int> g_phase;

inline bool is_recording() noexcept {
  return g_phase.load(std::memory_order_relaxed) == static_cast<int>(Phase::recording);
}

struct RecorderSettings {
  std::size_t max_frames = 12;
};

// Starts a run; false if one is recording or stopped but not yet released.
bool start_recording(const RecorderSettings& settings) noexcept;

void record_alloc(void* block, std::size_t bytes) noexcept;
void record_free(void* block) noexcept;

// realloc is two steps around the real call, so the table never holds an address that libc
// may already have handed to another thread: detach the old block, call realloc, then attach
// the result (or the old block again if realloc failed).
struct ReallocTicket {
  bool known = false;  // false: the old block was never recorded (or nothing is recording)
  LiveBlock block{};
};
ReallocTicket realloc_detach(void* old_block) noexcept;
void realloc_attach(const ReallocTicket& ticket, void* old_block, void* new_block, std::size_t bytes) noexcept;

// Current global counters (zero when nothing is recording).
GlobalCounters current_counters() noexcept;

// Ends recording: waits for events in flight, sets t-end and freezes the model. False if nothing
// was recording.
bool stop_recording() noexcept;
const HeapModel& frozen_model() noexcept;
const StackTable& frozen_stacks() noexcept;
// Blocks the recorder could not record for lack of memory (reported once at the end).
std::size_t dropped_events() noexcept;
// Frees the frozen state and allows the next start.
void release_recording() noexcept;

}  // namespace dhat::core
