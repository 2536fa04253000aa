// The changes a heap event makes to the profile: the live-block table, DHAT's model, the
// timeline, the open sections' high-water marks and the thread's own counters, in one step.
//
// Contract: every function takes a `Locked` token (recorder_state.hpp) and is always inlined:
// these are the recorder's hot path, shared by the three ways an event arrives (the single
// thread's delay line, the threads' rings, an event applied under the lock). A block the profiler
// cannot track (no memory for the live table, or no slot fits it) is counted in `dropped`, and
// the model never holds a block the table does not: its totals and peaks stay consistent.
#pragma once

#include <cstdint>

#include "core/heap_event.hpp"
#include "core/recorder_state.hpp"

namespace dhat::core {

// The time of an event, never before the previous event's (events stamped on different cores,
// and the calibration's steps, could otherwise run backwards by a few microseconds).
__attribute__((always_inline)) inline std::uint64_t event_time(const Locked& s, std::uint64_t us) {
  if (us < s->last_event_us) {
    return s->last_event_us;
  }
  s->last_event_us = us;
  return us;
}

// Reads RSS now (rss_timeline.hpp): rare, and kept out of the hot path's code.
__attribute__((noinline, cold)) inline void take_rss_reading(const Locked& s) { s->rss.sample(s->clock.now_us()); }

// After the global live bytes changed at `now`: the heap timeline, and RSS when a reading is due.
__attribute__((always_inline)) inline void note_heap_level(const Locked& s, std::uint64_t now) {
  s->timeline.record(now, s->model.global().curr_bytes);
  if (__builtin_expect(s->rss.due(now), 0)) {
    take_rss_reading(s);
  }
}

// After the global live bytes grew: raise the open sections' high-water marks.
inline void raise_watermarks(const Locked& s) {
  if (s->open_watermarks == 0) {
    return;
  }
  const std::uint64_t live = s->model.global().curr_bytes;
  for (int i = 0; i < kWatermarkSlots; ++i) {
    if (s->watermark_open[i] && live > s->watermark_max[i]) {
      s->watermark_max[i] = live;
    }
  }
}

__attribute__((always_inline)) inline void count_for_thread(ThreadHeapCounters& counters, std::uint64_t new_blocks,
                                                            std::uint64_t new_bytes, std::int64_t live_change) {
  counters.blocks += new_blocks;
  counters.bytes += new_bytes;
  counters.live_bytes += live_change;
  if (counters.live_bytes > counters.peak_live_bytes) {
    counters.peak_live_bytes = counters.live_bytes;
  }
}

// A live block that can no longer be tracked (no room in the live table): it leaves the model
// as if freed now, so that the totals stay consistent, and is counted as dropped.
inline void untrack_block(const Locked& s, const LiveBlock& block, std::uint64_t now) {
  s->model.on_free(block.pp, block.size, now);
  note_heap_level(s, now);
  ++s->dropped;
}

__attribute__((always_inline)) inline void add_block(const Locked& s, ThreadState& thread, std::uintptr_t address,
                                                     std::uint64_t bytes, PpId pp, std::uint64_t now) {
  if (pp == kNoPp || !s->model.ensure_pp(pp) || !s->live.insert(address, LiveBlock{bytes, pp})) {
    ++s->dropped;
    return;
  }
  s->model.on_alloc(pp, bytes, now);
  note_heap_level(s, now);
  raise_watermarks(s);
  count_for_thread(thread.counters, 1, bytes, static_cast<std::int64_t>(bytes));
  thread.last_alloc = address;
}

// Events are applied in each thread's own order (its ring, or under the lock as it makes them),
// so "this thread allocated nothing since" is the thread state's last_alloc still naming the
// block. (Not told apart: the thread's last block freed by another thread and a block at the
// same address made by a third, which this thread then frees before it allocates again.)
__attribute__((always_inline)) inline void remove_block(const Locked& s, ThreadState& thread, std::uintptr_t address,
                                                        std::uint64_t now) {
  LiveBlock freed{};
  if (!s->live.remove(address, &freed)) {
    return;
  }
  const bool temporary = address == thread.last_alloc;
  thread.last_alloc = temporary ? 0 : thread.last_alloc;
  s->model.on_free(freed.pp, freed.size, now, temporary);
  note_heap_level(s, now);
  count_for_thread(thread.counters, 0, 0, -static_cast<std::int64_t>(freed.size));
}

// `old`, already out of the table, now lives at `address` with `bytes`: a realloc is an
// allocation of this thread's (its result becomes the thread's last block).
__attribute__((always_inline)) inline void move_block(const Locked& s, ThreadState& thread, const LiveBlock& old,
                                                      std::uintptr_t address, std::uint64_t bytes, std::uint64_t now) {
  thread.last_alloc = address;
  if (!s->live.insert(address, LiveBlock{bytes, old.pp})) {
    untrack_block(s, old, now);
    return;
  }
  s->model.on_realloc(old.pp, old.size, bytes, now);
  note_heap_level(s, now);
  raise_watermarks(s);
  count_for_thread(thread.counters, 1, bytes, static_cast<std::int64_t>(bytes) - static_cast<std::int64_t>(old.size));
}

// Any event, applied now at `now` (the caller checked its run and the phase).
inline void apply_event(const Locked& s, ThreadState& thread, const HeapEvent& e, std::uint64_t now) {
  switch (e.kind()) {
    case EventKind::alloc:
      add_block(s, thread, e.address, e.size(), e.pp, now);
      return;
    case EventKind::free:
      remove_block(s, thread, e.address, now);
      return;
    case EventKind::realloc_from:
      thread.detached_known = s->live.remove(e.address, &thread.detached);
      return;
    case EventKind::realloc_failed:
      // The old block is untouched and live again.
      if (thread.detached_known && !s->live.insert(e.address, thread.detached)) {
        untrack_block(s, thread.detached, now);
      }
      thread.detached_known = false;
      return;
    case EventKind::realloc_to:
      if (thread.detached_known) {
        move_block(s, thread, thread.detached, e.address, e.size(), now);
      } else {
        // A block the profiler never saw (allocated before the run): DHAT counts the realloc
        // as a fresh allocation at this call site; unless the profiler's own code made it.
        if (e.pp != kProfilersOwnPp) {
          add_block(s, thread, e.address, e.size(), e.pp, now);
        }
      }
      thread.detached_known = false;
      return;
  }
}

// An alloc or free event (the delay line holds no other kind: delay_line.hpp).
__attribute__((always_inline)) inline void apply_alloc_or_free(const Locked& s, ThreadState& thread, const HeapEvent& e,
                                                               std::uint64_t now) {
  if (e.kind() == EventKind::alloc) {
    add_block(s, thread, e.address, e.size(), e.pp, now);
  } else {
    remove_block(s, thread, e.address, now);
  }
}

// Applies every event waiting in the delay line, oldest first: before anything reads the state
// or applies a later event (another thread's, once there are threads).
__attribute__((always_inline)) inline void flush_delay_line(const Locked& s) {
  s->delay.flush([&s](const DelayedEvent& d, ThreadState& thread) {
    if (d.event.generation == s->generation && phase_is(Phase::recording)) {
      apply_alloc_or_free(s, thread, d.event, d.time_us);
    }
  });
}

}  // namespace dhat::core
