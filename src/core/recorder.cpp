#include "core/recorder.hpp"

#include <pthread.h>
#include <sys/single_threaded.h>

#include <new>

#include "core/cfi_unwinder.hpp"
#include "core/clock.hpp"
#include "core/reentrancy_guard.hpp"
#include "core/spin_lock.hpp"
#include "core/stack_capture.hpp"
#include "core/stack_memo.hpp"

namespace dhat::core {

thread_local bool t_inside_profiler __attribute__((tls_model("initial-exec"))) = false;

std::atomic<int> g_phase{static_cast<int>(Phase::idle)};

namespace {

thread_local bool t_holds_lock __attribute__((tls_model("initial-exec"))) = false;
thread_local ThreadHeapCounters t_counters __attribute__((tls_model("initial-exec")));
thread_local StackMemo t_stack_memo __attribute__((tls_model("initial-exec")));

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
  alignas(64) RecorderSettings settings;
  ProfileClock clock;
  StackTable stacks;
  LiveTable live;
  HeapModel model;
  Timeline timeline;
  std::size_t dropped = 0;
  int open_watermarks = 0;
  bool watermark_open[kWatermarkSlots] = {};
  std::uint64_t watermark_max[kWatermarkSlots] = {};
};

RecorderState& state() {
  // Constructed on first use, never destroyed: hooks may run during static destruction.
  alignas(RecorderState) static unsigned char storage[sizeof(RecorderState)];
  static RecorderState* instance = new (storage) RecorderState();
  return *instance;
}

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
  Hold() : state_(state()), locked_(__libc_single_threaded == 0) {
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
void lock_before_fork() { state().mutex.lock(); }
void unlock_in_parent() { state().mutex.unlock(); }
void unlock_in_child() {
  if (phase_is(Phase::recording) || phase_is(Phase::ad_hoc)) {
    set_phase(Phase::stopped);
  }
  state().mutex.unlock();
}

// Interns the captured stack; kNoPp if memory ran out. Caller holds the lock.
PpId intern_stack(RecorderState& s, const RawStack& stack) {
  const PpId pp = s.stacks.intern(stack.frames, stack.depth, hash_stack(stack.frames, stack.depth));
  if (pp == kNoPp || !s.model.ensure_pp(pp)) {
    return kNoPp;
  }
  return pp;
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

void count_for_this_thread(std::uint64_t new_blocks, std::uint64_t new_bytes, std::int64_t live_change) {
  t_counters.blocks += new_blocks;
  t_counters.bytes += new_bytes;
  t_counters.live_bytes += live_change;
  if (t_counters.live_bytes > t_counters.peak_live_bytes) {
    t_counters.peak_live_bytes = t_counters.live_bytes;
  }
}

// A captured stack, or the memo entry that already knows its program point.
struct CapturedStack {
  RawStack stack;
  WalkTrace trace;
  StackMemoEntry* memo = nullptr;  // where to remember this walk (cfi walks from a known caller)
  bool memo_hit = false;           // memo->pp is this stack's program point (if the run is the same)
};

DHAT_CAPTURE_PATH void capture(CapturedStack& c, const void* entry_frame) {
  const std::size_t max_frames = state().settings.max_frames;
  if (entry_frame == nullptr || state().settings.unwinder != Unwinder::cfi_cache) {
    capture_stack(c.stack, max_frames);
    return;
  }
  const CallerFrame start = caller_frame_of(entry_frame);
  const std::size_t set = t_stack_memo.set_of(start);
  const std::uint32_t generation = g_generation.load(std::memory_order_relaxed);
  for (std::size_t way = 0; way < StackMemo::kWays; ++way) {
    StackMemoEntry& memo = t_stack_memo.way(set, way);
    if (memo.generation == generation && memo.frames[0] == start.ip &&
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

// The program point of a captured stack, remembering new walks. Caller holds the lock.
PpId program_point_of(RecorderState& s, CapturedStack& c) {
  const std::uint32_t generation = g_generation.load(std::memory_order_relaxed);
  if (c.memo_hit) {
    if (c.memo->generation == generation) {
      return c.memo->pp;
    }
    // A new run started between the check and the lock: intern the remembered frames afresh.
    RawStack& stack = c.stack;
    stack.depth = c.memo->depth;
    for (std::uint32_t i = 0; i < stack.depth; ++i) {
      stack.frames[i] = c.memo->frames[i];
    }
    const PpId pp = intern_stack(s, stack);
    c.memo->generation = pp == kNoPp ? 0 : generation;
    c.memo->pp = pp;
    return pp;
  }
  const PpId pp = intern_stack(s, c.stack);
  if (c.memo != nullptr && pp != kNoPp) {
    StackMemoEntry& memo = *c.memo;
    memo.generation = generation;
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
  CapturedStack captured;
  capture(captured, entry_frame);
  {
    Hold s;
    if (!phase_is(Phase::recording)) {
      return;
    }
    const PpId pp = program_point_of(*s, captured);
    if (s.shared()) {
      s->live.prefetch_own_fields();
      s->model.prefetch_for(pp);
    }
    const std::uint64_t now = s->clock.now_us();
    if (s.shared()) {
      s->timeline.prefetch_for(now);
    }
    if (pp == kNoPp || !s->live.insert(reinterpret_cast<std::uintptr_t>(block), LiveBlock{bytes, pp})) {
      ++s->dropped;
      return;
    }
    s->model.on_alloc(pp, bytes, now);
    s->timeline.record(now, s->model.global().curr_bytes);
    raise_watermarks(*s);
  }
  count_for_this_thread(1, bytes, static_cast<std::int64_t>(bytes));
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
  s->stacks.clear();
  s->live.clear();
  s->model.clear();
  s->timeline.clear();
  s->dropped = 0;
  g_libgcc_walks.store(0, std::memory_order_relaxed);
  g_generation.fetch_add(1, std::memory_order_relaxed);
  set_unwinder(settings.unwinder);
  s->clock.start();
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

void prepare_free(void* block) noexcept { state().live.prefetch(reinterpret_cast<std::uintptr_t>(block)); }

void record_free(void* block) noexcept {
  // No reentrancy guard: a free by the profiler's own code (outside the lock) must still be
  // seen, or a program block it releases would stay "live" in the table.
  if (t_holds_lock || block == nullptr) {
    return;
  }
  LiveBlock freed{};
  {
    Hold s;
    if (s.shared()) {
      s->live.prefetch_own_fields();
      s->model.prefetch_for(kNoPp);
    }
    if (!phase_is(Phase::recording) || !s->live.remove(reinterpret_cast<std::uintptr_t>(block), &freed)) {
      return;
    }
    const std::uint64_t now = s->clock.now_us();
    s->model.on_free(freed.pp, freed.size, now);
    s->timeline.record(now, s->model.global().curr_bytes);
  }
  count_for_this_thread(0, 0, -static_cast<std::int64_t>(freed.size));
}

ReallocTicket realloc_detach(void* old_block) noexcept {
  ReallocTicket ticket;
  if (t_holds_lock || old_block == nullptr) {
    return ticket;
  }
  Hold s;
  if (phase_is(Phase::recording)) {
    ticket.known = s->live.remove(reinterpret_cast<std::uintptr_t>(old_block), &ticket.block);
  }
  return ticket;
}

DHAT_CAPTURE_PATH void realloc_attach(const ReallocTicket& ticket, void* old_block, void* new_block, std::size_t bytes,
                                      const void* entry_frame) noexcept {
  if (!ticket.known) {
    // A block the profiler never saw (allocated before the run): DHAT counts the realloc as a
    // fresh allocation at this call site.
    if (new_block != nullptr) {
      record_alloc(new_block, bytes, entry_frame);
    }
    return;
  }
  {
    Hold s;
    if (!phase_is(Phase::recording)) {
      return;
    }
    if (new_block == nullptr) {
      // realloc failed: the old block is untouched and still live.
      s->live.insert(reinterpret_cast<std::uintptr_t>(old_block), ticket.block);
      return;
    }
    LiveBlock moved = ticket.block;
    moved.size = bytes;
    if (!s->live.insert(reinterpret_cast<std::uintptr_t>(new_block), moved)) {
      // The block can no longer be tracked: account it as freed so the totals stay consistent.
      s->model.on_free(ticket.block.pp, ticket.block.size, s->clock.now_us());
      ++s->dropped;
      return;
    }
    const std::uint64_t now = s->clock.now_us();
    s->model.on_realloc(ticket.block.pp, ticket.block.size, bytes, now);
    s->timeline.record(now, s->model.global().curr_bytes);
    raise_watermarks(*s);
  }
  count_for_this_thread(1, bytes, static_cast<std::int64_t>(bytes) - static_cast<std::int64_t>(ticket.block.size));
}

DHAT_CAPTURE_PATH void record_ad_hoc_event(std::uint64_t weight) noexcept {
  ReentrancyGuard guard;
  if (!guard.entered() || !phase_is(Phase::ad_hoc)) {
    return;
  }
  RawStack stack;
  capture_stack(stack, state().settings.max_frames);
  Hold s;
  if (!phase_is(Phase::ad_hoc)) {
    return;
  }
  const PpId pp = intern_stack(*s, stack);
  if (pp == kNoPp) {
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
  GlobalCounters counters = s->model.global();
  counters.tend_us = s->clock.now_us();
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
  const std::uint64_t now = phase_is(Phase::stopped) ? s->model.global().tend_us : s->clock.now_us();
  reader(s->model, s->stacks, s->timeline, now, context);
  return true;
}

bool stop_recording() noexcept {
  ReentrancyGuard guard;
  Hold s;
  if (!phase_is(Phase::recording) && !phase_is(Phase::ad_hoc)) {
    return false;
  }
  set_phase(Phase::stopped);
  s->model.finish(s->clock.now_us());
  return true;
}

std::size_t dropped_events() noexcept { return state().dropped + state().live.lost(); }

std::size_t libgcc_walks() noexcept { return g_libgcc_walks.load(std::memory_order_relaxed); }

void release_recording() noexcept {
  ReentrancyGuard guard;
  Hold s;
  if (!phase_is(Phase::stopped)) {
    return;
  }
  s->stacks.clear();
  s->live.clear();
  s->model.clear();
  set_phase(Phase::idle);
}

ThreadHeapCounters& this_thread_counters() noexcept { return t_counters; }

int open_watermark(std::uint64_t* live_bytes_now) noexcept {
  *live_bytes_now = 0;
  if (t_holds_lock) {
    return -1;
  }
  Hold s;
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
  return s->watermark_max[slot];
}

void close_watermark(int slot) noexcept {
  if (slot < 0 || slot >= kWatermarkSlots || t_holds_lock) {
    return;
  }
  Hold s;
  if (s->watermark_open[slot]) {
    s->watermark_open[slot] = false;
    --s->open_watermarks;
  }
}

}  // namespace dhat::core
