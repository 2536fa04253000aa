#include "core/recorder.hpp"

#include <pthread.h>
#include <sys/single_threaded.h>

#include <new>

#include "core/cfi_unwinder.hpp"
#include "core/clock.hpp"
#include "core/internal_pages.hpp"
#include "core/process_barrier.hpp"
#include "core/reentrancy_guard.hpp"
#include "core/spin_lock.hpp"
#include "core/stack_capture.hpp"
#include "core/stack_memo.hpp"

namespace dhat::core {

thread_local bool t_inside_profiler __attribute__((tls_model("initial-exec"))) = false;

std::atomic<int> g_phase{static_cast<int>(Phase::idle)};

namespace {

// True while this thread is inside the recorder's critical code (a lock held, or an event half
// published): a free it makes then (a state reader's, a signal handler's) is not recorded.
thread_local bool t_holds_lock __attribute__((tls_model("initial-exec"))) = false;
thread_local ThreadHeapCounters t_counters __attribute__((tls_model("initial-exec")));
thread_local StackMemo t_stack_memo __attribute__((tls_model("initial-exec")));
// This thread's event buffer (null until its first buffered event), and whether the thread has
// gone past its exit's clean-up of it (its last events then take the lock).
thread_local ThreadBuffer* t_buffer __attribute__((tls_model("initial-exec"))) = nullptr;
thread_local bool t_buffer_retired __attribute__((tls_model("initial-exec"))) = false;

// This run buffers threads' events (settings and an invariant TSC); read without the lock.
std::atomic<bool> g_buffered{false};

// Walks handed to libgcc this run (see libgcc_walks()): a slow path, so a shared counter is fine.
std::atomic<std::size_t> g_libgcc_walks{0};

// The current run's number (from 1), so that memo entries of an earlier run never match.
std::atomic<std::uint32_t> g_generation{0};

constexpr int kWatermarkSlots = 32;

// All state of one run. Static storage: it must exist before any constructor runs, because
// allocations can arrive from anywhere (static initializers of other libraries included).
struct RecorderState {
  // The lock has a cache line to itself: threads waiting for it read it over and over, which
  // would otherwise keep stealing the line of whatever the holder is writing next to it.
  alignas(64) SpinLock mutex;
  // Guards `stacks` (and `stacks_generation`) against buffered threads interning new stacks
  // without `mutex`, which a thread applying a batch of events holds for a while. Taken after
  // `mutex` when both are needed.
  alignas(64) SpinLock stacks_mutex;
  alignas(64) RecorderSettings settings;
  ProfileClock clock;
  StackTable stacks;
  std::uint32_t stacks_generation = 0;   // the run the stack table belongs to
  std::uint32_t generation = 0;          // the run being recorded (events of others are dropped)
  std::uint64_t last_event_us = 0;       // event times never go backwards (see event_time)
  ThreadBuffer* buffers = nullptr;       // every thread with a buffer
  ThreadBuffer* free_buffers = nullptr;  // buffers of exited threads, for reuse
  pthread_key_t buffer_key{};            // its destructor hands a buffer back at thread exit
  bool buffer_key_ready = false;
  // Whether the process-wide barrier works (decided at the first buffer): without it, threads
  // fence their own marks.
  enum class Barrier { unknown, enabled, unavailable } barrier = Barrier::unknown;
  LiveTable live;
  HeapModel model;
  Timeline timeline;
  // While the process has one thread and the live table has outgrown the cache, its events are
  // applied kRecent events late, in order: a free's live-table slot, a cache miss, then arrives
  // while the program goes on (see defer_event). Generation 0 marks an empty place.
  static constexpr std::size_t kRecent = 8;
  BufferedEvent recent[kRecent] = {};
  std::size_t recent_next = 0;  // the oldest place, replaced next
  std::size_t recent_count = 0;
  ThreadHeapCounters* recent_counters = nullptr;  // the one thread's (thread-local) counters
  std::size_t dropped = 0;
  int open_watermarks = 0;
  bool watermark_open[kWatermarkSlots] = {};
  std::uint64_t watermark_max[kWatermarkSlots] = {};
};

// The state lives from before the first constructor to after the last destructor: it is
// constant-initialized (DHAT_CONSTINIT makes the compiler check that no constructor code runs), and
// the union never destroys it (hooks may run during static destruction). A function-local static
// did the same at the cost of a guard check and a call on every event (1.3% of new_delete).
union StateStorage {
  RecorderState state;
  constexpr StateStorage() : state() {}
  ~StateStorage() {}  // NOLINT(modernize-use-equals-default): `= default` is deleted here
};
#if defined(__clang__)
#define DHAT_CONSTINIT [[clang::require_constant_initialization]]
#else
#define DHAT_CONSTINIT __constinit  // GCC's C++20 constinit, available in C++17 as an extension
#endif
DHAT_CONSTINIT StateStorage g_state_storage;

inline RecorderState& state() { return g_state_storage.state; }

// The recorder's lock, marking the owning thread: a free made while this thread holds it (by a
// state reader) must not try to take it again.
//
// While the process has a single thread (glibc's __libc_single_threaded: true until the first
// pthread_create), no other thread can be inside, and the lock's two atomic operations (a sixth
// of a profiled new/delete pair) are skipped. A thread can only appear through pthread_create
// called by that one thread, never while it is in here, and pthread_create orders everything
// before it with the new thread.
class Hold {
 public:
  Hold() : Hold(state()) {}
  explicit Hold(RecorderState& recorder) : state_(recorder), locked_(__libc_single_threaded == 0) {
    if (locked_) {
      state_.mutex.lock();
    }
    t_holds_lock = true;
  }
  ~Hold() {
    t_holds_lock = false;
    if (locked_) {
      state_.mutex.unlock();
    }
  }
  Hold(const Hold&) = delete;
  Hold& operator=(const Hold&) = delete;
  RecorderState* operator->() const { return &state_; }
  RecorderState& operator*() const { return state_; }
  // True if the lock was taken: other threads exist, and the state's cache lines were probably
  // last written by another core.
  bool shared() const { return locked_; }

 private:
  RecorderState& state_;
  bool locked_;
};

bool phase_is(Phase phase) { return g_phase.load(std::memory_order_relaxed) == static_cast<int>(phase); }
void set_phase(Phase phase) { g_phase.store(static_cast<int>(phase), std::memory_order_release); }

// fork() while another thread holds the lock would leave the child's copy locked forever.
// Holding it across fork keeps the state consistent; the child then stops recording (its
// profile would otherwise overwrite the parent's file) and runs its allocations through.
void lock_before_fork() {
  state().mutex.lock();
  state().stacks_mutex.lock();
}
void unlock_in_parent() {
  state().stacks_mutex.unlock();
  state().mutex.unlock();
}
void unlock_in_child() {
  if (phase_is(Phase::recording) || phase_is(Phase::ad_hoc)) {
    set_phase(Phase::stopped);
  }
  state().stacks_mutex.unlock();
  state().mutex.unlock();
}

// The stack table's lock, for interning (skipped while the process has one thread, like Hold's).
class StacksHold {
 public:
  explicit StacksHold(RecorderState& recorder) : state_(recorder), locked_(__libc_single_threaded == 0) {
    if (locked_) {
      state_.stacks_mutex.lock();
    }
  }
  ~StacksHold() {
    if (locked_) {
      state_.stacks_mutex.unlock();
    }
  }
  StacksHold(const StacksHold&) = delete;
  StacksHold& operator=(const StacksHold&) = delete;

 private:
  RecorderState& state_;
  bool locked_;
};

// Interns the captured stack into run `generation`'s table; kNoPp if memory ran out or another
// run has started since the stack was captured. Needs no lock: takes the stack table's.
PpId intern_stack(RecorderState& s, const RawStack& stack, std::uint32_t generation) {
  const bool holds = t_holds_lock;
  t_holds_lock = true;
  PpId pp = kNoPp;
  {
    StacksHold hold(s);
    if (s.stacks_generation == generation) {
      pp = s.stacks.intern(stack.frames, stack.depth, hash_stack(stack.frames, stack.depth));
    }
  }
  t_holds_lock = holds;
  return pp;
}

// The time of an event, never before the previous event's (events stamped on different cores,
// and the calibration's steps, could otherwise run backwards by a few microseconds).
__attribute__((always_inline)) inline std::uint64_t event_time(RecorderState& s, std::uint64_t us) {
  if (us < s.last_event_us) {
    return s.last_event_us;
  }
  s.last_event_us = us;
  return us;
}

// After the global live bytes grew: raise the open sections' high-water marks. Caller holds the lock.
void raise_watermarks(RecorderState& s) {
  if (s.open_watermarks == 0) {
    return;
  }
  const std::uint64_t live = s.model.global().curr_bytes;
  for (int i = 0; i < kWatermarkSlots; ++i) {
    if (s.watermark_open[i] && live > s.watermark_max[i]) {
      s.watermark_max[i] = live;
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

// This thread's counters for an event it applies itself (caller holds the lock): once it has a
// buffer, they live there, where its buffered events are counted too.
__attribute__((always_inline)) inline ThreadHeapCounters& own_counters() {
  return t_buffer != nullptr ? t_buffer->counters : t_counters;
}

// ---- The three changes a heap event makes (caller holds the lock) ----

__attribute__((always_inline)) inline void add_block(RecorderState& s, ThreadHeapCounters& counters,
                                                     std::uintptr_t address, std::uint64_t bytes, PpId pp,
                                                     std::uint64_t now) {
  if (pp == kNoPp || !s.model.ensure_pp(pp) || !s.live.insert(address, LiveBlock{bytes, pp})) {
    ++s.dropped;
    return;
  }
  s.model.on_alloc(pp, bytes, now);
  s.timeline.record(now, s.model.global().curr_bytes);
  raise_watermarks(s);
  count_for_thread(counters, 1, bytes, static_cast<std::int64_t>(bytes));
}

__attribute__((always_inline)) inline void remove_block(RecorderState& s, ThreadHeapCounters& counters,
                                                        std::uintptr_t address, std::uint64_t now) {
  LiveBlock freed{};
  if (!s.live.remove(address, &freed)) {
    return;
  }
  s.model.on_free(freed.pp, freed.size, now);
  s.timeline.record(now, s.model.global().curr_bytes);
  count_for_thread(counters, 0, 0, -static_cast<std::int64_t>(freed.size));
}

// `old`, already out of the table, now lives at `address` with `bytes`.
__attribute__((always_inline)) inline void move_block(RecorderState& s, ThreadHeapCounters& counters,
                                                      const LiveBlock& old, std::uintptr_t address, std::uint64_t bytes,
                                                      std::uint64_t now) {
  if (!s.live.insert(address, LiveBlock{bytes, old.pp})) {
    // The block can no longer be tracked: account it as freed so the totals stay consistent.
    s.model.on_free(old.pp, old.size, now);
    ++s.dropped;
    return;
  }
  s.model.on_realloc(old.pp, old.size, bytes, now);
  s.timeline.record(now, s.model.global().curr_bytes);
  raise_watermarks(s);
  count_for_thread(counters, 1, bytes, static_cast<std::int64_t>(bytes) - static_cast<std::int64_t>(old.size));
}

// ---- The one thread's deferred events (caller holds the lock, or the process has one thread) ----

__attribute__((always_inline)) inline void apply_recent(RecorderState& s, ThreadHeapCounters& counters,
                                                        const BufferedEvent& e) {
  if (e.kind() == EventKind::alloc) {
    add_block(s, counters, e.address, e.size(), e.pp, e.tsc);
  } else {
    remove_block(s, counters, e.address, e.tsc);
  }
}

// Queues an alloc or free event (its time, in µs, in `tsc`) and applies the oldest one. Only
// while the process has one thread (its counters are t_counters), whose free hook has started
// loading the block's live-table slot (prepare_free; an insert prefetches its own).
__attribute__((always_inline)) inline void defer_event(RecorderState& s, const BufferedEvent& e) {
  BufferedEvent& place = s.recent[s.recent_next];
  if (place.generation != 0) {
    apply_recent(s, t_counters, place);
  } else {
    ++s.recent_count;
    s.recent_counters = &t_counters;
  }
  place = e;
  s.recent_next = s.recent_next + 1 == RecorderState::kRecent ? 0 : s.recent_next + 1;
}

// Applies every deferred event, oldest first: before anything reads the state or applies a
// later event (another thread's, once there are threads).
void flush_recent(RecorderState& s) {
  if (s.recent_count == 0) {
    return;
  }
  for (std::size_t i = 0; i < RecorderState::kRecent; ++i) {
    BufferedEvent& place = s.recent[(s.recent_next + i) % RecorderState::kRecent];
    if (place.generation != 0) {
      if (place.generation == s.generation && phase_is(Phase::recording)) {
        apply_recent(s, *s.recent_counters, place);
      }
      place.generation = 0;
    }
  }
  s.recent_count = 0;
}

// An alloc or free event of the process's one thread, stamped now: applied at once while the
// live table fits the cache, else deferred.
__attribute__((always_inline)) inline void record_single_threaded(RecorderState& s, BufferedEvent e) {
  e.tsc = s.clock.now_us();
  if (s.live.outgrew_cache()) {
    defer_event(s, e);
  } else {
    flush_recent(s);
    apply_recent(s, t_counters, e);
  }
}

// ---- Applying the threads' buffered events (caller holds the lock) ----

void apply_event(RecorderState& s, ThreadBuffer& b, const BufferedEvent& e, std::uint64_t now) {
  if (e.generation != s.generation || !phase_is(Phase::recording)) {
    return;  // an event of an earlier run, or one that arrived after stop
  }
  switch (e.kind()) {
    case EventKind::alloc:
      add_block(s, b.counters, e.address, e.size(), e.pp, now);
      return;
    case EventKind::free:
      remove_block(s, b.counters, e.address, now);
      return;
    case EventKind::realloc_from:
      b.detached_known = s.live.remove(e.address, &b.detached);
      return;
    case EventKind::realloc_failed:
      if (b.detached_known) {
        s.live.insert(e.address, b.detached);  // the old block is untouched and still live
      }
      b.detached_known = false;
      return;
    case EventKind::realloc_to:
      if (b.detached_known) {
        move_block(s, b.counters, b.detached, e.address, e.size(), now);
      } else {
        // A block the profiler never saw (allocated before the run): DHAT counts the realloc
        // as a fresh allocation at this call site.
        add_block(s, b.counters, e.address, e.size(), e.pp, now);
      }
      b.detached_known = false;
      return;
  }
}

// Applies, in time-stamp order, the published events stamped before `limit` (merge_position and
// merge_end set by drain_buffers).
void merge_below(RecorderState& s, std::uint64_t limit) {
  constexpr std::size_t kMaxActive = 32;
  ThreadBuffer* active[kMaxActive];
  std::size_t count = 0;
  bool overflow = false;
  for (ThreadBuffer* b = s.buffers; b != nullptr; b = b->next) {
    if (b->merge_position < b->merge_end && b->event_at(b->merge_position).tsc < limit) {
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
  const std::uint64_t now_ns = s.clock.now_ns();  // also keeps the TSC's calibration going
  const std::uint64_t now_us = s.clock.us_since_start(now_ns);
  for (;;) {
    // The buffer whose next event is earliest, and the stamp its run of events ends before (the
    // runner-up's next event). With many busy threads, look at every buffer.
    ThreadBuffer* best = nullptr;
    std::uint64_t best_tsc = limit;
    std::uint64_t run_end = limit;
    auto consider = [&](ThreadBuffer* b) {
      if (b->merge_position < b->merge_end) {
        const std::uint64_t tsc = b->event_at(b->merge_position).tsc;
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
      for (ThreadBuffer* b = s.buffers; b != nullptr; b = b->next) {
        consider(b);
      }
    }
    if (best == nullptr) {
      break;
    }
    // Threads' events interleave in runs (a thread runs for a time slice): apply the whole run.
    do {
      const BufferedEvent& e = best->event_at(best->merge_position);
      if (best->merge_position + 4 < best->merge_end) {
        s.live.prefetch(best->event_at(best->merge_position + 4).address);
      }
      apply_event(s, *best, e, event_time(s, s.clock.us_at_tsc(e.tsc, now_ns, now_us)));
      ++best->merge_position;
    } while (best->merge_position < best->merge_end && best->event_at(best->merge_position).tsc < run_end);
  }
  for (ThreadBuffer* b = s.buffers; b != nullptr; b = b->next) {
    if (b->merge_position != b->consumed_end()) {
      b->consume_until(b->merge_position);
    }
  }
}

// Applies every buffered event stamped before `until` (a tsc_before_later() reading), waiting
// for threads in the middle of publishing one. Caller holds the lock.
void drain_buffers(RecorderState& s, std::uint64_t until) {
  flush_recent(s);  // events from before the threads
  for (int round = 0;; ++round) {
    const std::uint64_t now = tsc_before_later();
    std::uint64_t limit = until < now ? until : now;
    if (s.barrier == RecorderState::Barrier::enabled) {
      process_barrier();  // every thread's mark stored before `now` is visible from here on
    }
    for (ThreadBuffer* b = s.buffers; b != nullptr; b = b->next) {
      const std::uint64_t mark = b->in_flight_mark();  // before the published end: see thread_buffer.hpp
      // This thread's own mark is set only if a signal handler interrupted its publishing and
      // then read the profile: waiting for itself would never end.
      if (mark < limit && b != t_buffer) {
        limit = mark;
      }
      b->merge_end = b->published_end();
      b->merge_position = b->consumed_end();
    }
    merge_below(s, limit);
    if (limit >= until) {
      return;
    }
    // A thread is between its mark and its stamp: a few instructions, unless it was preempted.
    if (round < 64) {
      __builtin_ia32_pause();
    } else {
      sched_yield();
    }
  }
}

// Brings the state up to date with every thread's buffered events. Caller holds the lock.
void apply_buffered(RecorderState& s) {
  flush_recent(s);
  if (s.buffers != nullptr) {
    drain_buffers(s, tsc_before_later());
  }
}

// pthread key destructor: the thread is exiting. Applies its events, keeps its counters for
// whatever it still does (through the lock) and hands the buffer back for reuse.
void retire_buffer(void* buffer) {
  auto* b = static_cast<ThreadBuffer*>(buffer);
  ReentrancyGuard guard;
  {
    Hold s;
    drain_buffers(*s, tsc_before_later());
    t_counters = b->counters;
    for (ThreadBuffer** link = &s->buffers; *link != nullptr; link = &(*link)->next) {
      if (*link == b) {
        *link = b->next;
        break;
      }
    }
    b->next = s->free_buffers;
    s->free_buffers = b;
  }
  t_buffer = nullptr;
  t_buffer_retired = true;
}

// A buffer for this thread (claimed on its first event); null when its events must take the
// lock: a single thread, no buffering in this run, or no memory for one.
ThreadBuffer* buffer_for_this_thread() {
  if (!g_buffered.load(std::memory_order_relaxed) || __libc_single_threaded != 0) {
    return nullptr;
  }
  if (t_buffer != nullptr || t_buffer_retired) {
    return t_buffer;
  }
  ReentrancyGuard guard;  // pthread_setspecific may calloc
  Hold s;
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
    b = new (memory) ThreadBuffer();
  }
  if (s->barrier == RecorderState::Barrier::unknown) {
    s->barrier = enable_process_barrier() ? RecorderState::Barrier::enabled : RecorderState::Barrier::unavailable;
  }
  b->reset_for_new_owner(s->barrier != RecorderState::Barrier::enabled);
  flush_recent(*s);  // this thread's counters take their deferred events first
  b->counters = t_counters;
  b->detached_known = false;
  b->next = s->buffers;
  s->buffers = b;
  if (pthread_setspecific(s->buffer_key, b) != 0) {
    // No clean-up at exit: keep it in the list (drained like the others), never reused.
    t_buffer_retired = true;
    return nullptr;
  }
  t_buffer = b;
  return b;
}

// Publishes an event to this thread's buffer, making room first if it is full.
void publish(ThreadBuffer& b, const BufferedEvent& event) {
  // While another thread holds the lock it is usually draining, this buffer included: wait for
  // room rather than for the lock, and go on as soon as there is some. (Queueing for the lock
  // behind the whole drain, then taking and releasing it for nothing, was 13% of four threads'
  // time.)
  for (int spins = 0; b.full(); ++spins) {
    if (!state().mutex.held()) {
      Hold s;
      if (b.full()) {  // the thread that held the lock may have emptied it meanwhile
        drain_buffers(*s, tsc_before_later());
      }
      break;
    }
    if (spins < 64) {
      __builtin_ia32_pause();
    } else {
      sched_yield();
      spins = 0;
    }
  }
  t_holds_lock = true;
  b.stamp_and_publish(event);
  t_holds_lock = false;
}

// A captured stack, or the memo entry that already knows its program point.
struct CapturedStack {
  RawStack stack;
  WalkTrace trace;
  StackMemoEntry* memo = nullptr;  // where to remember this walk (cfi walks from a known caller)
  bool memo_hit = false;           // memo->pp is this stack's program point
  std::uint32_t generation = 0;    // the run the capture was made for
};

DHAT_CAPTURE_PATH void capture(const RecorderState& s, CapturedStack& c, const void* entry_frame) {
  const std::size_t max_frames = s.settings.max_frames;
  c.generation = g_generation.load(std::memory_order_relaxed);
  if (entry_frame == nullptr || s.settings.unwinder != Unwinder::cfi_cache) {
    capture_stack(c.stack, max_frames);
    return;
  }
  const CallerFrame start = caller_frame_of(entry_frame);
  const std::size_t set = t_stack_memo.set_of(start);
  for (std::size_t way = 0; way < StackMemo::kWays; ++way) {
    StackMemoEntry& memo = t_stack_memo.way(set, way);
    if (memo.generation == c.generation && memo.frames[0] == start.ip &&
        cfi_same_walk(start, memo.frames, memo.rules, memo.depth, memo.ends_with_zero, max_frames)) {
      t_stack_memo.touch(memo);
      c.memo = &memo;
      c.memo_hit = true;
      return;
    }
  }
  StackMemoEntry& memo = t_stack_memo.victim(set);
  t_stack_memo.touch(memo);
  if (!cfi_walk(start, c.stack, max_frames, &c.trace)) {
    g_libgcc_walks.fetch_add(1, std::memory_order_relaxed);
    capture_stack_with(c.stack, max_frames, Unwinder::libgcc);  // trims the profiler's frames itself
    return;
  }
  if (c.stack.depth <= StackMemoEntry::kFrames) {
    c.memo = &memo;
  }
}

// The program point of a captured stack (in the capture's run), remembering new walks.
PpId program_point_of(RecorderState& s, CapturedStack& c) {
  if (c.memo_hit) {
    return c.memo->pp;
  }
  const PpId pp = intern_stack(s, c.stack, c.generation);
  if (c.memo != nullptr && pp != kNoPp) {
    StackMemoEntry& memo = *c.memo;
    memo.generation = c.generation;
    memo.pp = pp;
    memo.depth = c.stack.depth;
    memo.ends_with_zero = c.trace.ends_with_zero;
    for (std::uint32_t i = 0; i < c.stack.depth; ++i) {
      memo.frames[i] = c.stack.frames[i];
      memo.rules[i] = c.trace.rules[i];
    }
  }
  return pp;
}

DHAT_CAPTURE_PATH void record_new_block(void* block, std::size_t bytes, const void* entry_frame) {
  RecorderState& recorder = state();
  CapturedStack captured;
  capture(recorder, captured, entry_frame);
  const auto address = reinterpret_cast<std::uintptr_t>(block);
  const PpId pp = program_point_of(recorder, captured);
  if (__libc_single_threaded != 0) {
    // The common case, kept short: no lock, no buffers (they exist only once threads do), and
    // the clock alone orders the events.
    Hold s(recorder);
    if (phase_is(Phase::recording) && captured.generation == s->generation) {
      record_single_threaded(*s, BufferedEvent::make(EventKind::alloc, address, bytes, pp, captured.generation));
    }
    return;
  }
  if (ThreadBuffer* buffer = buffer_for_this_thread()) {
    publish(*buffer, BufferedEvent::make(EventKind::alloc, address, bytes, pp, captured.generation));
    return;
  }
  Hold s(recorder);
  if (!phase_is(Phase::recording) || captured.generation != s->generation) {
    return;
  }
  if (s.shared()) {
    s->live.prefetch_own_fields();
    s->model.prefetch_for(pp);
    apply_buffered(*s);
  }
  const std::uint64_t now = event_time(*s, s->clock.now_us());
  if (s.shared()) {
    s->timeline.prefetch_for(now);
  }
  add_block(*s, own_counters(), address, bytes, pp, now);
}

}  // namespace

bool start_recording(const RecorderSettings& settings) noexcept {
  ReentrancyGuard guard;
  static bool fork_handlers_installed = false;
  Hold s;
  if (!phase_is(Phase::idle)) {
    return false;
  }
  if (!fork_handlers_installed) {
    pthread_atfork(&lock_before_fork, &unlock_in_parent, &unlock_in_child);
    fork_handlers_installed = true;
  }
  s->settings = settings;
  if (s->settings.max_frames > kMaxFramesLimit) {
    s->settings.max_frames = kMaxFramesLimit;
  }
  const std::uint32_t generation = g_generation.load(std::memory_order_relaxed) + 1;
  {
    StacksHold stacks(*s);
    s->stacks.clear();
    s->stacks_generation = generation;
  }
  s->generation = generation;
  for (BufferedEvent& place : s->recent) {
    place.generation = 0;  // events of an earlier run, already applied or dropped
  }
  s->recent_count = 0;
  s->live.clear();
  s->model.clear();
  s->timeline.clear();
  s->dropped = 0;
  s->last_event_us = 0;
  g_libgcc_walks.store(0, std::memory_order_relaxed);
  g_generation.store(generation, std::memory_order_relaxed);
  set_unwinder(settings.unwinder);
  s->clock.start();
  // Buffered events are ordered by their TSC stamps across CPUs: only with counters the kernel
  // trusts to agree. Otherwise each event takes the lock (slower, same numbers).
  g_buffered.store(settings.thread_buffers && !settings.ad_hoc && s->clock.uses_tsc() && kernel_clock_is_tsc(),
                   std::memory_order_relaxed);
  set_phase(settings.ad_hoc ? Phase::ad_hoc : Phase::recording);
  return true;
}

DHAT_CAPTURE_PATH void record_alloc(void* block, std::size_t bytes, const void* entry_frame) noexcept {
  ReentrancyGuard guard;
  if (!guard.entered() || block == nullptr) {
    return;
  }
  record_new_block(block, bytes, entry_frame);
}

void prepare_free(void* block) noexcept {
  // A buffered free is applied later, maybe by another thread: loading its slot now is wasted.
  if (__libc_single_threaded == 0 && g_buffered.load(std::memory_order_relaxed)) {
    return;
  }
  state().live.prefetch(reinterpret_cast<std::uintptr_t>(block));
}

void record_free(void* block) noexcept {
  // No reentrancy guard: a free by the profiler's own code (outside the lock) must still be
  // seen, or a program block it releases would stay "live" in the table.
  if (t_holds_lock || block == nullptr) {
    return;
  }
  const auto address = reinterpret_cast<std::uintptr_t>(block);
  if (__libc_single_threaded != 0) {
    Hold s(state());  // no lock: see record_new_block
    if (phase_is(Phase::recording)) {
      record_single_threaded(*s, BufferedEvent::make(EventKind::free, address, 0, kNoPp, s->generation));
    }
    return;
  }
  if (ThreadBuffer* buffer = buffer_for_this_thread()) {
    const std::uint32_t generation = g_generation.load(std::memory_order_relaxed);
    publish(*buffer, BufferedEvent::make(EventKind::free, address, 0, kNoPp, generation));
    return;
  }
  Hold s(state());
  if (s.shared()) {
    s->live.prefetch_own_fields();
    s->model.prefetch_for(kNoPp);
    apply_buffered(*s);
  }
  if (!phase_is(Phase::recording)) {
    return;
  }
  remove_block(*s, own_counters(), address, event_time(*s, s->clock.now_us()));
}

ReallocTicket realloc_detach(void* old_block) noexcept {
  ReallocTicket ticket;
  if (t_holds_lock || old_block == nullptr) {
    return ticket;
  }
  const auto address = reinterpret_cast<std::uintptr_t>(old_block);
  if (ThreadBuffer* buffer = buffer_for_this_thread()) {
    const std::uint32_t generation = g_generation.load(std::memory_order_relaxed);
    publish(*buffer, BufferedEvent::make(EventKind::realloc_from, address, 0, kNoPp, generation));
    ticket.buffered = true;
    return ticket;
  }
  Hold s;
  apply_buffered(*s);
  if (phase_is(Phase::recording)) {
    ticket.known = s->live.remove(address, &ticket.block);
  }
  return ticket;
}

DHAT_CAPTURE_PATH void realloc_attach(const ReallocTicket& ticket, void* old_block, void* new_block, std::size_t bytes,
                                      const void* entry_frame) noexcept {
  if (ticket.buffered) {
    ThreadBuffer* buffer = buffer_for_this_thread();
    if (buffer == nullptr) {
      return;  // cannot happen: a thread keeps its buffer until it exits
    }
    if (new_block == nullptr) {
      const std::uint32_t generation = g_generation.load(std::memory_order_relaxed);
      publish(*buffer, BufferedEvent::make(EventKind::realloc_failed, reinterpret_cast<std::uintptr_t>(old_block), 0,
                                           kNoPp, generation));
      return;
    }
    // Whether the old block was known is decided when the events are applied: capture the
    // site now in case it was not (the realloc then counts as an allocation here).
    ReentrancyGuard guard;
    CapturedStack captured;
    PpId pp = kNoPp;
    if (guard.entered()) {
      capture(state(), captured, entry_frame);
      pp = program_point_of(state(), captured);
    } else {
      captured.generation = g_generation.load(std::memory_order_relaxed);
    }
    publish(*buffer, BufferedEvent::make(EventKind::realloc_to, reinterpret_cast<std::uintptr_t>(new_block), bytes, pp,
                                         captured.generation));
    return;
  }
  if (!ticket.known) {
    // A block the profiler never saw (allocated before the run): DHAT counts the realloc as a
    // fresh allocation at this call site.
    if (new_block != nullptr) {
      record_alloc(new_block, bytes, entry_frame);
    }
    return;
  }
  Hold s;
  apply_buffered(*s);
  if (!phase_is(Phase::recording)) {
    return;
  }
  if (new_block == nullptr) {
    // realloc failed: the old block is untouched and still live.
    s->live.insert(reinterpret_cast<std::uintptr_t>(old_block), ticket.block);
    return;
  }
  move_block(*s, own_counters(), ticket.block, reinterpret_cast<std::uintptr_t>(new_block), bytes,
             event_time(*s, s->clock.now_us()));
}

DHAT_CAPTURE_PATH void record_ad_hoc_event(std::uint64_t weight) noexcept {
  ReentrancyGuard guard;
  if (!guard.entered() || !phase_is(Phase::ad_hoc)) {
    return;
  }
  RawStack stack;
  capture_stack(stack, state().settings.max_frames);
  const std::uint32_t generation = g_generation.load(std::memory_order_relaxed);
  const PpId pp = intern_stack(state(), stack, generation);
  Hold s;
  if (!phase_is(Phase::ad_hoc) || generation != s->generation) {
    return;
  }
  if (pp == kNoPp || !s->model.ensure_pp(pp)) {
    ++s->dropped;
    return;
  }
  s->model.on_ad_hoc_event(pp, weight);
}

GlobalCounters current_counters() noexcept {
  if (t_holds_lock) {
    return GlobalCounters{};
  }
  Hold s;
  if (phase_is(Phase::idle) || phase_is(Phase::stopped)) {
    return GlobalCounters{};
  }
  apply_buffered(*s);
  GlobalCounters counters = s->model.global();
  counters.tend_us = event_time(*s, s->clock.now_us());
  return counters;
}

bool is_ad_hoc_run() noexcept {
  return phase_is(Phase::ad_hoc) || (phase_is(Phase::stopped) && state().settings.ad_hoc);
}

bool read_state(StateReader reader, void* context) noexcept {
  if (t_holds_lock) {
    return false;
  }
  ReentrancyGuard guard;
  Hold s;
  if (phase_is(Phase::idle)) {
    return false;
  }
  apply_buffered(*s);
  StacksHold stacks(*s);
  const std::uint64_t now = phase_is(Phase::stopped) ? s->model.global().tend_us : event_time(*s, s->clock.now_us());
  reader(s->model, s->stacks, s->timeline, now, context);
  return true;
}

bool stop_recording() noexcept {
  ReentrancyGuard guard;
  Hold s;
  if (!phase_is(Phase::recording) && !phase_is(Phase::ad_hoc)) {
    return false;
  }
  apply_buffered(*s);
  set_phase(Phase::stopped);
  s->model.finish(event_time(*s, s->clock.now_us()));
  return true;
}

std::size_t dropped_events() noexcept { return state().dropped + state().live.lost(); }

std::size_t libgcc_walks() noexcept { return g_libgcc_walks.load(std::memory_order_relaxed); }

bool threads_buffer_events() noexcept { return g_buffered.load(std::memory_order_relaxed); }

void release_recording() noexcept {
  ReentrancyGuard guard;
  Hold s;
  if (!phase_is(Phase::stopped)) {
    return;
  }
  {
    StacksHold stacks(*s);
    s->stacks.clear();
  }
  s->live.clear();
  s->model.clear();
  set_phase(Phase::idle);
}

ThreadHeapCounters this_thread_counters() noexcept {
  if (t_holds_lock) {
    return t_counters;
  }
  Hold s;
  apply_buffered(*s);
  return own_counters();
}

void set_this_thread_peak(std::int64_t peak_live_bytes) noexcept {
  if (t_holds_lock) {
    t_counters.peak_live_bytes = peak_live_bytes;
    return;
  }
  Hold s;
  apply_buffered(*s);  // this thread's earlier events come before the change
  own_counters().peak_live_bytes = peak_live_bytes;
}

int open_watermark(std::uint64_t* live_bytes_now) noexcept {
  *live_bytes_now = 0;
  if (t_holds_lock) {
    return -1;
  }
  Hold s;
  apply_buffered(*s);
  *live_bytes_now = s->model.global().curr_bytes;
  for (int i = 0; i < kWatermarkSlots; ++i) {
    if (!s->watermark_open[i]) {
      s->watermark_open[i] = true;
      s->watermark_max[i] = s->model.global().curr_bytes;
      ++s->open_watermarks;
      return i;
    }
  }
  return -1;
}

std::uint64_t watermark_peak(int slot) noexcept {
  if (slot < 0 || slot >= kWatermarkSlots || t_holds_lock) {
    return 0;
  }
  Hold s;
  apply_buffered(*s);
  return s->watermark_max[slot];
}

void close_watermark(int slot) noexcept {
  if (slot < 0 || slot >= kWatermarkSlots || t_holds_lock) {
    return;
  }
  Hold s;
  apply_buffered(*s);
  if (s->watermark_open[slot]) {
    s->watermark_open[slot] = false;
    --s->open_watermarks;
  }
}

}  // namespace dhat::core
