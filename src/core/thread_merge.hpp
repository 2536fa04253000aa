// Threads' buffers of heap events and the merge that applies them in stamp order: the
// multi-producer half of the recorder.
//
// Contract: each thread with events to record while the process has threads claims a buffer
// (its ring, event_ring.hpp, and the state the consumer keeps for it) on its first event and
// hands it back at exit; `publish` appends an event to it without taking the lock unless the
// ring is full. Whoever holds the recorder's lock applies every thread's published events in
// time-stamp order with `apply_waiting_events` (readers of the profile call it first, so they
// always see every event made before they asked). Needs `g_buffered` (an invariant TSC the
// kernel trusts); otherwise every event takes the lock and nothing here is used.
#pragma once

#include <sys/single_threaded.h>

#include <cstdint>

#include "core/accounting.hpp"
#include "core/event_ring.hpp"
#include "core/heap_event.hpp"
#include "core/recorder_state.hpp"

namespace dhat::core {

struct ThreadBuffer {
  // Kept by the consumer for this thread (touched only with the recorder's lock held).
  ThreadState state;
  std::uint64_t merge_position = 0;  // scratch for the merge
  std::uint64_t merge_end = 0;
  ThreadBuffer* next = nullptr;  // in the recorder's list of buffers
  EventRing ring;
};

// Claims a buffer for this thread; null when its events must take the lock (no buffering in
// this run, the thread is past its exit's clean-up, or no memory for one).
ThreadBuffer* claim_buffer_for_this_thread() noexcept;

// This thread's buffer, claimed on its first event; null while the process has one thread and
// whenever claim_buffer_for_this_thread() says null.
__attribute__((always_inline)) inline ThreadBuffer* buffer_for_this_thread() noexcept {
  if (!g_buffered.load(std::memory_order_relaxed) || __libc_single_threaded != 0) {
    return nullptr;
  }
  if (t_buffer != nullptr || t_buffer_retired) {
    return t_buffer;
  }
  return claim_buffer_for_this_thread();
}

// Empties `b`'s full ring: waits while another thread applies events (it takes this ring's too),
// or takes the lock and applies them itself.
void make_room(ThreadBuffer& b) noexcept;

// Publishes an event to this thread's buffer, making room first if it is full.
__attribute__((always_inline)) inline void publish(ThreadBuffer& b, const HeapEvent& event) noexcept {
  if (b.ring.full()) {
    make_room(b);
  }
  // A signal handler's event meanwhile must not publish into the half-written slot. The fences
  // keep the compiler from moving the marks into the publishing (a signal is this thread itself).
  // The mark is restored, not cleared: a replay of held events publishes with it set.
  const bool marked_before = t_holds_lock;
  t_holds_lock = true;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  b.ring.stamp_and_publish(event);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  t_holds_lock = marked_before;
}

// Applies every event stamped before `until` (a tsc_before_later() reading), waiting for threads
// in the middle of publishing one.
void drain_buffers(const Locked& s, std::uint64_t until) noexcept;

// Brings the profile up to date: the delay line's events, then every thread's published ones.
__attribute__((always_inline)) inline void apply_waiting_events(const Locked& s) noexcept {
  flush_delay_line(s);
  if (s->buffers != nullptr) {
    drain_buffers(s, tsc_before_later());
  }
}

// The state that this thread's directly applied events change: its buffer's, once it has one
// (where its buffered events are counted too), else its own.
__attribute__((always_inline)) inline ThreadState& own_state(const Locked&) noexcept {
  return t_buffer != nullptr ? t_buffer->state : t_state;
}

}  // namespace dhat::core
