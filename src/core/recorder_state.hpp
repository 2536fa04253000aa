// The recorder's state, its two locks, and the token that proves a caller may change it.
//
// Contract: one RecorderState for the process (constant-initialized static storage, never
// destroyed: allocations arrive from static initializers and destructors of other libraries).
// Everything in it that events change is changed only through a `Locked` token, and only a
// `RecorderLock` makes one: either the recorder's lock is held, or the process has a single
// thread (glibc's __libc_single_threaded) and nobody else can be inside. The stack table has a
// lock of its own (StacksLock), taken after the main one when both are needed, so that threads
// can intern new stacks while another thread applies a batch of events.
//
// Thread-locals here use initial-exec TLS: one instruction to reach, and no __tls_get_addr call
// that could itself allocate. They are a few words in all (checked by a test): initial-exec TLS
// is carved out of every thread's stack, and a library loaded with dlopen (the profiler linked
// into a plugin) must fit in the few hundred bytes glibc keeps for it. Bigger per-thread state
// (the stack memo, the event ring) lives in the profiler's own pages, reached through a pointer.
#pragma once

#include <pthread.h>
#include <sys/single_threaded.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/clock.hpp"
#include "core/delay_line.hpp"
#include "core/heap_model.hpp"
#include "core/internal_check.hpp"
#include "core/live_table.hpp"
#include "core/recorder.hpp"
#include "core/reentrancy_guard.hpp"
#include "core/rss_timeline.hpp"
#include "core/section_counters.hpp"
#include "core/spin_lock.hpp"
#include "core/stack_table.hpp"
#include "core/timeline.hpp"

namespace dhat::core {

struct ThreadBuffer;
struct StackMemo;

// What the recorder keeps per thread for the events it applies: the thread's counters (for
// sections) and the block of a realloc in progress, out of the live table between realloc_from
// and realloc_to (or realloc_failed).
struct ThreadState {
  ThreadHeapCounters counters;
  bool detached_known = false;  // the block of the pending realloc_from was live
  LiveBlock detached{};
  // The block this thread allocated last (its latest alloc or realloc's result), until the thread
  // frees it: freed then, before the thread allocated anything else, it is a temporary block.
  std::uintptr_t last_alloc = 0;
};

inline constexpr int kWatermarkSlots = 32;

struct RecorderState {
  // The lock has a cache line to itself: threads waiting for it read it over and over, which
  // would otherwise keep stealing the line of whatever the holder is writing next to it.
  alignas(kCacheLineBytes) SpinLock mutex;
  // Guards `stacks` (and `stacks_generation`) against threads interning new stacks without
  // `mutex`, which a thread applying a batch of events holds for a while.
  alignas(kCacheLineBytes) SpinLock stacks_mutex;
  alignas(kCacheLineBytes) RecorderSettings settings;
  ProfileClock clock;
  StackTable stacks;
  std::uint32_t stacks_generation = 0;   // the run the stack table belongs to
  std::uint32_t generation = 0;          // the run being recorded (events of others are dropped)
  std::uint64_t last_event_us = 0;       // event times never go backwards (see event_time)
  std::uint64_t last_merged_tsc = 0;     // the merge applies ring events in stamp order (checked)
  ThreadBuffer* buffers = nullptr;       // every thread with a buffer
  ThreadBuffer* free_buffers = nullptr;  // buffers of exited threads, for reuse
  pthread_key_t buffer_key{};            // its destructor hands a buffer back at thread exit
  bool buffer_key_ready = false;
  StackMemo* free_memos = nullptr;  // stack memos of exited threads, for reuse (capture.cpp)
  pthread_key_t memo_key{};         // its destructor hands a memo back at thread exit
  bool memo_key_ready = false;
  // Whether the process-wide barrier works (decided at the first buffer): without it, threads
  // fence their own marks.
  enum class Barrier { unknown, enabled, unavailable } barrier = Barrier::unknown;
  LiveTable live;
  HeapModel model;
  Timeline timeline;
  DelayLine delay;
  std::size_t dropped = 0;  // events that could not be recorded (no memory, or no slot)
  int open_watermarks = 0;
  bool watermark_open[kWatermarkSlots] = {};
  std::uint64_t watermark_max[kWatermarkSlots] = {};
  RssTimeline rss;  // read as the heap changes (accounting.hpp's note_heap_level)
};

// The state lives from before the first constructor to after the last destructor: it is
// constant-initialized (recorder_state.cpp makes the compiler check that no constructor code
// runs), and the union never destroys it (hooks may run during static destruction). A
// function-local static did the same at the cost of a guard check and a call on every event
// (1.3% of new_delete); so does an out-of-line accessor.
union StateStorage {
  RecorderState state;
  constexpr StateStorage() : state() {}
  ~StateStorage() {}  // NOLINT(modernize-use-equals-default): `= default` is deleted here
};
extern StateStorage g_state_storage DHAT_HIDDEN;

inline RecorderState& state() noexcept { return g_state_storage.state; }

// ---- Run-wide flags, read without the lock ----
// This run buffers threads' events (settings and an invariant TSC).
extern std::atomic<bool> g_buffered DHAT_HIDDEN;
// Walks handed to libgcc this run (see libgcc_walks()): a slow path, so a shared counter is fine.
extern std::atomic<std::size_t> g_libgcc_walks DHAT_HIDDEN;
// Heap events of signal handlers that interrupted their thread inside the recorder's critical
// code and could not be held for later (handler_events.hpp: the pool full or without memory);
// counted without the lock, which the interrupted code may hold.
extern std::atomic<std::size_t> g_unrecorded_handler_events DHAT_HIDDEN;
// The current run's number (from 1), so that memo entries and events of an earlier run never match.
extern std::atomic<std::uint32_t> g_generation DHAT_HIDDEN;

inline bool phase_is(Phase phase) noexcept {
  return g_phase.load(std::memory_order_relaxed) == static_cast<int>(phase);
}
// A run's life: idle -> recording or ad_hoc -> stopped -> idle. Any other step is a defect.
constexpr bool is_legal_phase_step(Phase from, Phase to) noexcept {
  switch (to) {
    case Phase::recording:
    case Phase::ad_hoc:
      return from == Phase::idle;
    case Phase::stopped:
      return from == Phase::recording || from == Phase::ad_hoc;
    case Phase::idle:
      return from == Phase::stopped;
  }
  return false;
}
inline void set_phase(Phase phase) noexcept {
  DHAT_INTERNAL_CHECK(is_legal_phase_step(static_cast<Phase>(g_phase.load(std::memory_order_relaxed)), phase));
  g_phase.store(static_cast<int>(phase), std::memory_order_release);
}

// ---- Per thread ----
// t_holds_lock (recorder.hpp): this thread is inside the recorder's critical code.
// This thread's state for events applied directly (not through its buffer).
extern DHAT_CONSTINIT thread_local ThreadState t_state DHAT_TLS DHAT_HIDDEN;
// This thread's event buffer (null until its first buffered event), and whether the thread has
// gone past its exit's clean-up of it (its last events then take the lock).
extern DHAT_CONSTINIT thread_local ThreadBuffer* t_buffer DHAT_TLS DHAT_HIDDEN;
extern DHAT_CONSTINIT thread_local bool t_buffer_retired DHAT_TLS DHAT_HIDDEN;

// Proof that the caller may change the recorder's state (see the contract above). Functions that
// change shared state take `const Locked&`; only RecorderLock can be one. It carries no pointer:
// there is one state, and a token with a reference in it was spilled to the stack and reloaded
// on every access (25 instructions more per profiled new/delete pair).
class Locked {
 public:
  Locked(const Locked&) = delete;
  Locked& operator=(const Locked&) = delete;
  RecorderState* operator->() const noexcept { return &state(); }
  RecorderState& operator*() const noexcept { return state(); }

 protected:
  Locked() noexcept = default;
  ~Locked() = default;
};

// The recorder's lock, marking the owning thread: a free made while this thread holds it (by a
// state reader) must not try to take it again.
//
// While the process has a single thread (glibc's __libc_single_threaded: true until the first
// pthread_create), no other thread can be inside, and the lock's two atomic operations (a sixth
// of a profiled new/delete pair) are skipped. A thread can only appear through pthread_create
// called by that one thread, never while it is in here, and pthread_create orders everything
// before it with the new thread.
// Marks this thread inside the recorder's critical code without a lock (see t_holds_lock):
// around the whole of recording one of the program's events (record_alloc), whose code never
// allocates through the hooks (its calls that may, into libgcc and pthread_setspecific, are in
// a ReentrancyGuard). An event on this thread before the mark is cleared is a signal handler's.
class RecorderMark {
 public:
  RecorderMark() noexcept : marked_before_(t_holds_lock) {
    t_holds_lock = true;
    std::atomic_signal_fence(std::memory_order_seq_cst);  // marked before what it covers
  }
  ~RecorderMark() {
    std::atomic_signal_fence(std::memory_order_seq_cst);  // what it covers is done before
    t_holds_lock = marked_before_;
  }
  RecorderMark(const RecorderMark&) = delete;
  RecorderMark& operator=(const RecorderMark&) = delete;

 private:
  bool marked_before_;
};

class RecorderLock final : public Locked {
 public:
  // The mark is set before the lock is taken and cleared after it is released: a signal
  // handler that interrupts this thread anywhere in between must see it, or its allocation would
  // wait for the lock this thread holds (found as a hang: interrupted just after the exchange
  // that took the lock, before the mark).
  RecorderLock() noexcept : locked_(__libc_single_threaded == 0), marked_before_(t_holds_lock) {
    t_holds_lock = true;
    std::atomic_signal_fence(std::memory_order_seq_cst);  // the mark is stored before the lock is tried
    if (locked_) {
      state().mutex.lock();
    }
    DHAT_INTERNAL_CHECK(!locked_ || state().mutex.held());
  }
  ~RecorderLock() {
    if (locked_) {
      state().mutex.unlock();
    }
    std::atomic_signal_fence(std::memory_order_seq_cst);  // released before the mark is cleared
    t_holds_lock = marked_before_;
  }
  RecorderLock(const RecorderLock&) = delete;
  RecorderLock& operator=(const RecorderLock&) = delete;
  // True if the lock was taken: other threads exist, and the state's cache lines were probably
  // last written by another core.
  bool shared() const noexcept { return locked_; }

 private:
  bool locked_;
  bool marked_before_;  // this thread's mark as it was (a lock taken inside another's section)
};

// The stack table's lock, for interning (skipped while the process has one thread, like
// RecorderLock's).
class StacksLock {
 public:
  explicit StacksLock(RecorderState& recorder) noexcept : recorder_(recorder), locked_(__libc_single_threaded == 0) {
    if (locked_) {
      recorder_.stacks_mutex.lock();
    }
  }
  ~StacksLock() {
    if (locked_) {
      recorder_.stacks_mutex.unlock();
    }
  }
  StacksLock(const StacksLock&) = delete;
  StacksLock& operator=(const StacksLock&) = delete;

 private:
  RecorderState& recorder_;
  bool locked_;
};

// Installs (once) the fork handlers that keep the state consistent across fork().
void install_fork_handlers() noexcept;

}  // namespace dhat::core
