#include "core/thread_merge.hpp"

#include <sched.h>

#include <new>

#include "core/handler_events.hpp"
#include "core/internal_pages.hpp"
#include "core/process_barrier.hpp"
#include "core/reentrancy_guard.hpp"
#include "core/signals_blocked.hpp"

namespace dhat::core {

namespace {

// Applies, in time-stamp order, the published events stamped before `limit` (merge_position and
// merge_end set by drain_buffers).
void merge_below(const Locked& s, std::uint64_t limit) {
  constexpr std::size_t kMaxActive = 32;
  ThreadBuffer* active[kMaxActive];
  std::size_t count = 0;
  bool overflow = false;
  for (ThreadBuffer* b = s->buffers; b != nullptr; b = b->next) {
    if (b->merge_position < b->merge_end && b->ring.event_at(b->merge_position).tsc < limit) {
      if (count < kMaxActive) {
        active[count++] = b;
      } else {
        overflow = true;
      }
    }
  }
  if (count == 0) {
    return;
  }
  const std::uint64_t now_ns = s->clock.now_ns();  // also keeps the TSC's calibration going
  const std::uint64_t now_us = s->clock.us_since_start(now_ns);
  const bool recording = phase_is(Phase::recording);
  for (;;) {
    // The buffer whose next event is earliest, and the stamp its run of events ends before (the
    // runner-up's next event). With many busy threads, look at every buffer.
    ThreadBuffer* best = nullptr;
    std::uint64_t best_tsc = limit;
    std::uint64_t run_end = limit;
    auto consider = [&](ThreadBuffer* b) {
      if (b->merge_position < b->merge_end) {
        const std::uint64_t tsc = b->ring.event_at(b->merge_position).tsc;
        if (tsc < best_tsc) {
          run_end = best_tsc;
          best = b;
          best_tsc = tsc;
        } else if (tsc < run_end) {
          run_end = tsc;
        }
      }
    };
    if (!overflow) {
      for (std::size_t i = 0; i < count; ++i) {
        consider(active[i]);
      }
    } else {
      for (ThreadBuffer* b = s->buffers; b != nullptr; b = b->next) {
        consider(b);
      }
    }
    if (best == nullptr) {
      break;
    }
    // Threads' events interleave in runs (a thread runs for a time slice): apply the whole run.
    do {
      const StampedEvent& e = best->ring.event_at(best->merge_position);
      if (best->merge_position + 4 < best->merge_end) {
        s->live.prefetch(best->ring.event_at(best->merge_position + 4).event.address);
      }
      DHAT_INTERNAL_CHECK(e.tsc >= s->last_merged_tsc);  // one order for every thread's events
      s->last_merged_tsc = e.tsc;
      // Events of an earlier run, and events that arrived after stop, are dropped.
      if (e.event.generation == s->generation && recording) {
        apply_event(s, best->state, e.event, event_time(s, s->clock.us_at_tsc(e.tsc, now_ns, now_us)));
      }
      ++best->merge_position;
    } while (best->merge_position < best->merge_end && best->ring.event_at(best->merge_position).tsc < run_end);
  }
  for (ThreadBuffer* b = s->buffers; b != nullptr; b = b->next) {
    if (b->merge_position != b->ring.consumed_end()) {
      b->ring.consume_until(b->merge_position);
    }
  }
}

// pthread key destructor: the thread is exiting. Applies its events, keeps its state for
// whatever it still does (through the lock) and hands the buffer back for reuse.
void retire_buffer(void* buffer) {
  auto* b = static_cast<ThreadBuffer*>(buffer);
  // Events a handler held on this thread that no entry point has taken yet: the thread is
  // exiting and may never enter again, and they come before the ring's last drain.
  replay_held_events_if_any();
  ReentrancyGuard guard;
  {
    RecorderLock s;
    drain_buffers(s, tsc_before_later());
    t_state = b->state;
    for (ThreadBuffer** link = &s->buffers; *link != nullptr; link = &(*link)->next) {
      if (*link == b) {
        *link = b->next;
        break;
      }
    }
    // The next owner starts with no memory held, like a fresh buffer (a busy thread touched all
    // of its ring; its successor may make a handful of events).
    DHAT_INTERNAL_CHECK(b->ring.consumed_end() == b->ring.published_end());
    b->ring.release_slots();
    b->next = s->free_buffers;
    s->free_buffers = b;
  }
  t_buffer = nullptr;
  t_buffer_retired = true;
}

}  // namespace

void drain_buffers(const Locked& s, std::uint64_t until) noexcept {
  flush_delay_line(s);  // events from before the threads
  for (int round = 0;; ++round) {
    const std::uint64_t now = tsc_before_later();
    std::uint64_t limit = until < now ? until : now;
    if (s->barrier == RecorderState::Barrier::enabled) {
      // Every thread's mark stored before `now` is visible from here on. Once registered, the
      // command cannot fail (its documented errors are for unregistered or unknown commands).
      const bool barrier_done = process_barrier();
      DHAT_INTERNAL_CHECK(barrier_done);
    }
    for (ThreadBuffer* b = s->buffers; b != nullptr; b = b->next) {
      const std::uint64_t mark = b->ring.in_flight_mark();  // before the published end: see event_ring.hpp
      // This thread's own mark is set only if a signal handler interrupted its publishing and
      // then read the profile: waiting for itself would never end.
      if (mark < limit && b != t_buffer) {
        limit = mark;
      }
      b->merge_end = b->ring.published_end();
      b->merge_position = b->ring.consumed_end();
    }
    merge_below(s, limit);
    if (limit >= until) {
      return;
    }
    // A thread is between its mark and its stamp: a few instructions, unless it was preempted.
    if (round < 64) {
      spin_pause();
    } else {
      sched_yield();
    }
  }
}

ThreadBuffer* claim_buffer_for_this_thread() noexcept {
  // No ReentrancyGuard over the whole claim: a signal handler's events while this thread waits
  // for the lock are then held and recorded (handler_events.hpp), not passed through; only
  // pthread_setspecific, which may calloc, is guarded.
  RecorderLock s;
  if (t_buffer != nullptr) {
    return t_buffer;  // a signal handler's event, just before the lock, claimed one
  }
  if (!s->buffer_key_ready) {
    if (pthread_key_create(&s->buffer_key, &retire_buffer) != 0) {
      g_buffered.store(false, std::memory_order_relaxed);
      return nullptr;
    }
    s->buffer_key_ready = true;
  }
  ThreadBuffer* b = s->free_buffers;
  if (b != nullptr) {
    s->free_buffers = b->next;
  } else {
    void* memory = map_zeroed_pages(sizeof(ThreadBuffer));
    if (memory == nullptr) {
      t_buffer_retired = true;  // do not try again on every event
      return nullptr;
    }
    // Default-initialized, not `ThreadBuffer()`: value-initialization would first zero the whole
    // object, ring slots included (fresh pages are zero already; writing them holds them).
    b = new (memory) ThreadBuffer;
  }
  if (s->barrier == RecorderState::Barrier::unknown) {
    s->barrier = enable_process_barrier() ? RecorderState::Barrier::enabled : RecorderState::Barrier::unavailable;
  }
  b->ring.reset_for_new_owner(s->barrier != RecorderState::Barrier::enabled);
  flush_delay_line(s);  // this thread's counters take their deferred events first
  b->state = t_state;
  b->state.detached_known = false;
  b->next = s->buffers;
  s->buffers = b;
  bool registered = false;
  {
    const OwnLibcCall own;  // its calloc is the profiler's own
    registered = pthread_setspecific(s->buffer_key, b) == 0;
  }
  if (!registered) {
    // No clean-up at exit: keep it in the list (drained like the others), never reused.
    t_buffer_retired = true;
    return nullptr;
  }
  t_buffer = b;
  return b;
}

void make_room(ThreadBuffer& b) noexcept {
  // While another thread holds the lock it is usually draining, this buffer included: wait for
  // room rather than for the lock, and go on as soon as there is some. (Queueing for the lock
  // behind the whole drain, then taking and releasing it for nothing, was 13% of four threads'
  // time.)
  for (int spins = 0; b.ring.full(); ++spins) {
    if (!state().mutex.held()) {
      RecorderLock s;
      if (b.ring.full()) {  // the thread that held the lock may have emptied it meanwhile
        drain_buffers(s, tsc_before_later());
      }
      return;
    }
    if (spins < 64) {
      spin_pause();
    } else {
      sched_yield();
      spins = 0;
    }
  }
}

}  // namespace dhat::core
