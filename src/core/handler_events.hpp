// Heap events of signal handlers that interrupted their thread inside the recorder's critical
// code, held back until the thread leaves it and then recorded as if made then.
//
// Contract: `hold_*` are called only while this thread's mark (t_holds_lock) is set and the
// thread is not inside a ReentrancyGuard of its own (so the event can only be a signal
// handler's); they take no lock, allocate nothing through the hooks (the pool is mmapped once,
// async-signal-safe) and return false when the pool is full or has no memory (the caller counts
// the event as not recorded). `replay_held_events_if_any` is called at the end of the recorder's
// entry points, once the thread's mark is clear, and at the start of those that record an event
// (alloc, free, a realloc's detach: events held in a region marked outside any entry point are
// older than the event), never between a realloc's detach and attach: it routes this thread's
// held events, oldest first, like any other event. Events of a handler that runs while another
// replay is in progress join the same replay.
//
// Why not record at once: recording takes the lock this thread may hold (a hang) or writes into
// the half-published ring slot. Why a shared pool, not a per-thread queue: threads come and go,
// and a handler's events are rare; a pool of fixed slots has no per-thread memory to hand back
// and keeps the initial-exec TLS to one word. Why not drop them: a free dropped leaves its block
// live to the end, and an allocation dropped is a hole in the totals.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/recorder.hpp"
#include "core/reentrancy_guard.hpp"
#include "core/stack_capture.hpp"

namespace dhat::core {

// Events held by this thread's signal handlers and not yet replayed (non-zero: look in the pool).
extern DHAT_CONSTINIT thread_local std::atomic<std::uint32_t> t_held_events DHAT_TLS DHAT_HIDDEN;

// Slots in the pool, for all threads: events held at one time. A thread waiting for the lock
// is inside too, and so is a reader while it applies every thread's events: with a handler every
// 100 us, a release build held 400 events in one such wait beside the test suite (64 slots
// overflowed), a debug (UBSan) build 7,000 in one long drain (4,096 overflowed). 16,384 slots
// are 18 MB of address space; only the slots ever used are touched, and scans stop at them.
inline constexpr std::size_t kHeldEventSlots = 16384;

// An allocation at the handler's stack (captured here, from the caller's frame).
[[nodiscard]] bool hold_alloc(std::uintptr_t block, std::size_t bytes) noexcept;
// A free; the block is handed back by `later` once the free is replayed (null `later.release`:
// the caller freed it already).
[[nodiscard]] bool hold_free(std::uintptr_t block, const DeferredRelease& later = {}) noexcept;
// A realloc that moved (or kept) `old_block` to `new_block`, at the handler's stack; `later`
// hands the old block back once replayed (null `later.release`: the realloc freed it already).
[[nodiscard]] bool hold_realloc(std::uintptr_t old_block, std::uintptr_t new_block, std::size_t bytes,
                                const DeferredRelease& later = {}) noexcept;

// Routes every event this thread's handlers held (recorder.cpp).
void replay_held_events() noexcept;

__attribute__((always_inline)) inline void replay_held_events_if_any() noexcept {
  if (__builtin_expect(t_held_events.load(std::memory_order_relaxed) != 0, 0)) {
    replay_held_events();
  }
}

// Replays this thread's held events when the entry point it is declared in returns (declared
// first, it runs after every lock and guard of the entry point is gone).
struct ReplayHeldEventsOnReturn {
  ReplayHeldEventsOnReturn() = default;
  ReplayHeldEventsOnReturn(const ReplayHeldEventsOnReturn&) = delete;
  ReplayHeldEventsOnReturn& operator=(const ReplayHeldEventsOnReturn&) = delete;
  ~ReplayHeldEventsOnReturn() { replay_held_events_if_any(); }
};

// The pool's side of a replay. A slot is free, being written (by a handler of its owner), or
// ready; only its owner's thread takes a ready one (its replay) and frees it.
enum class HeldKind : std::uint32_t { alloc, free, realloc };
struct HeldEvent {
  std::atomic<std::uint32_t> state;  // kFree, kWriting, kReady (handler_events.cpp)
  std::atomic<const void*> owner;    // the holding thread (the address of its t_held_events)
  std::atomic<std::uint64_t> order;  // process-wide order of holding: a thread's oldest first
  HeldKind kind;
  std::uint32_t generation;  // the run the stack was captured for
  std::uintptr_t block;      // the allocated or freed block (realloc: the new one)
  std::uintptr_t old_block;  // realloc: the block it replaced
  std::uint64_t bytes;
  DeferredRelease later;  // free, realloc: how the freed block is handed back once recorded
  RawStack stack;         // alloc, realloc: the handler's stack
};

// The oldest of this thread's held events published before the call, or null (events that
// handlers publish during it are left to the next call). The event stays this thread's until
// `release_held_event`.
[[nodiscard]] HeldEvent* oldest_held_event_of_this_thread() noexcept;
void release_held_event(HeldEvent& event) noexcept;

}  // namespace dhat::core
