// The recorder: the one place where the hooks' events meet the profile's state. This header is
// its surface, for the hooks, the runtime and the public API; the pieces behind it are
// recorder_state.hpp (state and locks), accounting.hpp (what an event changes), delay_line.hpp
// and thread_merge.hpp (the two ways an event waits), capture.hpp (stacks to program points)
// and section_counters.hpp (what dhat::Section reads).
//
// Contract: every function is safe to call from any thread at any time, never allocates through
// the hooks, and never throws. Events arriving while no heap run is recording (before start,
// during and after stop, during an ad hoc run) are ignored, so hooks may call in after the cheap
// `is_recording()` check. A stack is captured before the lock is taken; the lock guards only
// table updates. With threads, events are buffered per thread and applied in time-stamp order
// by whichever thread takes the lock next; a single thread with a heap of many blocks has its
// last few events applied late, in order, to hide the live table's cache misses. Everything
// that reads the state (counters, reports, stop) applies them first, so readers never see the
// difference. After `stop_recording()` the state is frozen until `release_recording()`.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/heap_model.hpp"
#include "core/reentrancy_guard.hpp"
#include "core/rss_timeline.hpp"
#include "core/stack_capture.hpp"
#include "core/stack_table.hpp"
#include "core/timeline.hpp"

namespace dhat::core {

enum class Phase : int { idle = 0, recording = 1, stopped = 2, ad_hoc = 3 };

// Hidden: a default-visibility declaration would be reached through the GOT from the hooks.
extern std::atomic<int> g_phase __attribute__((visibility("hidden")));

// True while a heap run records: the hooks' only check.
inline bool is_recording() noexcept {
  return g_phase.load(std::memory_order_relaxed) == static_cast<int>(Phase::recording);
}

struct RecorderSettings {
  std::size_t max_frames = 12;
  bool ad_hoc = false;  // record ad_hoc_event() calls instead of the heap
  Unwinder unwinder = Unwinder::cfi_cache;
  // With threads, each thread buffers its events (thread_merge.hpp) instead of taking the lock
  // for each. Needs an invariant TSC; without one, or when false, every event takes the lock.
  bool thread_buffers = true;
  // Read the process's resident memory beside the heap timeline (rss_timeline.hpp).
  bool record_rss = true;
};

// Starts a run; false if one is running or stopped but not yet released.
[[nodiscard]] bool start_recording(const RecorderSettings& settings) noexcept;

// `entry_frame`: DHAT_ENTRY_FRAME() of the hook the program called (core/arch.hpp), so that the walk
// starts at the program's frame; null: walk from here and trim the profiler's frames.
void record_alloc(void* block, std::size_t bytes, EntryFrame entry_frame = {}) noexcept;
// A free already made (or made by the call that follows, such as realloc(block, 0)).
void record_free(void* block) noexcept;

// How a block whose free was held is handed back once that free is recorded:
// `release(block, *this)`, with every signal blocked (as in the handler that freed it). The
// words are the release's own (the allocator's function, found before the free was held, and
// its arguments after the block): it may not look anything up then.
struct DeferredRelease {
  void (*release)(void* block, const DeferredRelease& how) noexcept = nullptr;
  std::uintptr_t function = 0;
  std::uintptr_t arg1 = 0;
  std::uintptr_t arg2 = 0;
};
// A free the caller has not made yet. True when it was held (a signal handler's, made while
// this thread is inside the recorder's critical code: handler_events.hpp): the caller must not
// free the block, `later` does it when the held free is recorded. Freed at once, the address
// could go to another thread's allocation (or to the realloc this thread was in the middle of
// recording) before the table let go of the old block: the new block was then taken for freed.
[[nodiscard]] bool record_free_before_release(void* block, const DeferredRelease& later) noexcept;

// True while this thread is inside the recorder's critical code (a lock held, or an event half
// published): an event it makes then is a state reader's own (inside a ReentrancyGuard: not
// recorded) or a signal handler's (held, and recorded once the thread leaves: handler_events.hpp).
extern DHAT_CONSTINIT thread_local bool t_holds_lock DHAT_TLS DHAT_HIDDEN;
inline bool inside_recorder() noexcept { return t_holds_lock; }
// A hint that `block` is about to be freed: starts loading what record_free will look at.
// (Inserts need no such hint: the live table prefetches them itself while they wait.)
void prepare_free(void* block) noexcept;

// realloc is two steps around the real call, so the table never holds an address that libc
// may already have handed to another thread: detach the old block, call realloc, then attach
// the result (or the old block again if realloc failed).
struct ReallocTicket {
  bool known = false;     // false: the old block was never recorded (or nothing is recording)
  bool buffered = false;  // the old block went into this thread's buffer (known is not yet known)
  bool held = false;      // a signal handler's, inside the profiler: held (handler_events.hpp)
};
[[nodiscard]] ReallocTicket realloc_detach(void* old_block) noexcept;
void realloc_attach(const ReallocTicket& ticket, void* old_block, void* new_block, std::size_t bytes,
                    EntryFrame entry_frame = {}) noexcept;
// Instead of the real realloc and realloc_attach when the ticket is `held` (a signal handler's
// realloc inside the recorder): the hook made `new_block` and copied the old one's contents
// itself, and the old block is handed back by `later` once the realloc is recorded (as for
// record_free_before_release: a realloc that freed it at once could see its address handed to
// another thread first). False: not held (the caller frees the old block now). realloc_attach
// uses it too, with no `later`, for a held realloc whose allocator let the old block go itself.
[[nodiscard]] bool realloc_attach_held(void* old_block, void* new_block, std::size_t bytes,
                                       const DeferredRelease& later) noexcept;

// One ad hoc event at the caller's stack (only during an ad hoc run).
void record_ad_hoc_event(std::uint64_t weight) noexcept;

// Current global counters (zero when nothing is running). Never allocates.
GlobalCounters current_counters() noexcept;
bool is_ad_hoc_run() noexcept;

// Calls `reader` with the lock held and the state as it is now (or as frozen by stop), with
// `now_us` the time to report as t-end. Allocations made by `reader` are not recorded. False
// (and `reader` not called) when nothing runs.
using StateReader = void (*)(const HeapModel& model, const StackTable& stacks, const Timeline& timeline,
                             const RssTimeline& rss, std::uint64_t now_us, void* context);
[[nodiscard]] bool read_state(StateReader reader, void* context) noexcept;

// Ends recording: waits for events in flight, sets t-end and freezes the model. False if nothing
// was running.
bool stop_recording() noexcept;
// Events the recorder could not record for lack of memory (reported once at the end).
std::size_t dropped_events() noexcept;
// Heap events of signal handlers inside the recorder that could not be held: not recorded.
std::size_t unrecorded_handler_events() noexcept;
// This run's stack walks that the cached-CFI walker could not do and libgcc did (slowly).
std::size_t libgcc_walks() noexcept;
// Whether this run's threads buffer their events (false: one lock per event; see thread_merge.hpp).
bool threads_buffer_events() noexcept;
// Frees the frozen state and allows the next start.
void release_recording() noexcept;

}  // namespace dhat::core
