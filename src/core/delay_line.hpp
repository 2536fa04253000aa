// The single thread's delay line: while the process has one thread and the live table has
// outgrown a core's cache, each alloc and free event waits here for kLength later events before
// it is applied, in order. The free hook has meanwhile started loading the block's table slot
// (prepare_free), a cache miss that then arrives while the program goes on instead of stalling
// the event (json benchmark 1.26 -> 1.14 s).
//
// Contract: not thread-safe (only the process's one thread pushes; whoever holds the recorder's
// lock flushes). Holds alloc and free events only, each with its time in microseconds. Every
// reader of the profile, a thread's start and a buffer claim flush it first, so nothing ever
// sees the delay. `apply(event, counters)` is the caller's: the delay line only keeps the order.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/heap_event.hpp"

namespace dhat::core {

struct ThreadState;

struct DelayedEvent {
  std::uint64_t time_us = 0;
  HeapEvent event;  // generation 0: an empty place
};
static_assert(sizeof(DelayedEvent) == 32, "two to a cache line");

class DelayLine {
 public:
  static constexpr std::size_t kLength = 8;

  // Queues `e`, made at `time_us` by the thread whose state is `owner`, applying the event it
  // replaces (the oldest). By value and written in place: a copy through the stack cost the
  // hot path a dozen instructions.
  template <typename Apply>
  __attribute__((always_inline)) void push(std::uint64_t time_us, const HeapEvent& e, ThreadState* owner,
                                           Apply&& apply) {
    DelayedEvent& place = places_[next_];
    if (place.event.generation != 0) {
      apply(place, *owner);
    } else {
      ++count_;
      owner_ = owner;
    }
    place.time_us = time_us;
    place.event = e;
    next_ = next_ + 1 == kLength ? 0 : next_ + 1;
  }

  // Applies every waiting event, oldest first, and empties the line.
  template <typename Apply>
  __attribute__((always_inline)) void flush(Apply&& apply) {
    if (count_ == 0) {
      return;
    }
    for (std::size_t i = 0; i < kLength; ++i) {
      DelayedEvent& place = places_[(next_ + i) % kLength];
      if (place.event.generation != 0) {
        apply(place, *owner_);
        place.event.generation = 0;
      }
    }
    count_ = 0;
  }

  // Forgets what waits (the events of an earlier run, already applied or dropped).
  void clear() noexcept {
    for (DelayedEvent& place : places_) {
      place.event.generation = 0;
    }
    count_ = 0;
  }

 private:
  DelayedEvent places_[kLength] = {};
  std::size_t next_ = 0;  // the oldest place, replaced next
  std::size_t count_ = 0;
  ThreadState* owner_ = nullptr;  // the one thread's state
};

}  // namespace dhat::core
