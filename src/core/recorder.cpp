#include "core/recorder.hpp"

#include <pthread.h>

#include <mutex>

#include "core/clock.hpp"
#include "core/reentrancy_guard.hpp"
#include "core/stack_capture.hpp"

namespace dhat::core {

thread_local bool t_inside_profiler __attribute__((tls_model("initial-exec"))) = false;

std::atomic<int> g_phase{static_cast<int>(Phase::idle)};

namespace {

// All state of one run. Static storage: it must exist before any constructor runs, because
// allocations can arrive from anywhere (static initializers of other libraries included).
struct RecorderState {
  std::mutex lock;
  RecorderSettings settings;
  ProfileClock clock;
  StackTable stacks;
  LiveTable live;
  HeapModel model;
  std::size_t dropped = 0;
};

RecorderState& state() {
  // Constructed on first use, never destroyed: hooks may run during static destruction.
  alignas(RecorderState) static unsigned char storage[sizeof(RecorderState)];
  static RecorderState* instance = new (storage) RecorderState();
  return *instance;
}

bool phase_is(Phase phase) { return g_phase.load(std::memory_order_relaxed) == static_cast<int>(phase); }

// fork() while another thread holds the lock would leave the child's copy locked forever.
// Holding it across fork keeps the state consistent; the child then stops recording (its
// profile would otherwise overwrite the parent's file) and runs its allocations through.
void lock_before_fork() { state().lock.lock(); }
void unlock_in_parent() { state().lock.unlock(); }
void unlock_in_child() {
  if (phase_is(Phase::recording)) {
    g_phase.store(static_cast<int>(Phase::stopped), std::memory_order_relaxed);
  }
  state().lock.unlock();
}

// Capture plus interning of the caller's stack; kNoPp if memory ran out. Caller holds the lock.
PpId intern_stack(RecorderState& s, const RawStack& stack) {
  const PpId pp = s.stacks.intern(stack.frames, stack.depth, hash_stack(stack.frames, stack.depth));
  if (pp == kNoPp || !s.model.ensure_pp(pp)) {
    return kNoPp;
  }
  return pp;
}

DHAT_CAPTURE_PATH void record_new_block(void* block, std::size_t bytes) {
  RawStack stack;
  capture_stack(stack, state().settings.max_frames);
  RecorderState& s = state();
  std::lock_guard<std::mutex> hold(s.lock);
  if (!phase_is(Phase::recording)) {
    return;
  }
  const PpId pp = intern_stack(s, stack);
  const std::uint64_t now = s.clock.now_us();
  if (pp == kNoPp || !s.live.insert(reinterpret_cast<std::uintptr_t>(block), LiveBlock{bytes, now, pp})) {
    ++s.dropped;
    return;
  }
  s.model.on_alloc(pp, bytes, now);
}

}  // namespace

bool start_recording(const RecorderSettings& settings) noexcept {
  ReentrancyGuard guard;
  RecorderState& s = state();
  static bool fork_handlers_installed = false;
  std::lock_guard<std::mutex> hold(s.lock);
  if (!phase_is(Phase::idle)) {
    return false;
  }
  if (!fork_handlers_installed) {
    pthread_atfork(&lock_before_fork, &unlock_in_parent, &unlock_in_child);
    fork_handlers_installed = true;
  }
  s.settings = settings;
  if (s.settings.max_frames > kMaxFramesLimit) {
    s.settings.max_frames = kMaxFramesLimit;
  }
  s.stacks.clear();
  s.live.clear();
  s.model.clear();
  s.dropped = 0;
  s.clock.start();
  g_phase.store(static_cast<int>(Phase::recording), std::memory_order_release);
  return true;
}

DHAT_CAPTURE_PATH void record_alloc(void* block, std::size_t bytes) noexcept {
  ReentrancyGuard guard;
  if (!guard.entered() || block == nullptr) {
    return;
  }
  record_new_block(block, bytes);
}

void record_free(void* block) noexcept {
  ReentrancyGuard guard;
  if (!guard.entered() || block == nullptr) {
    return;
  }
  RecorderState& s = state();
  std::lock_guard<std::mutex> hold(s.lock);
  if (!phase_is(Phase::recording)) {
    return;
  }
  LiveBlock freed{};
  if (s.live.remove(reinterpret_cast<std::uintptr_t>(block), &freed)) {
    s.model.on_free(freed.pp, freed.size, freed.birth_us, s.clock.now_us());
  }
}

ReallocTicket realloc_detach(void* old_block) noexcept {
  ReallocTicket ticket;
  ReentrancyGuard guard;
  if (!guard.entered() || old_block == nullptr) {
    return ticket;
  }
  RecorderState& s = state();
  std::lock_guard<std::mutex> hold(s.lock);
  if (phase_is(Phase::recording)) {
    ticket.known = s.live.remove(reinterpret_cast<std::uintptr_t>(old_block), &ticket.block);
  }
  return ticket;
}

DHAT_CAPTURE_PATH void realloc_attach(const ReallocTicket& ticket, void* old_block, void* new_block,
                                      std::size_t bytes) noexcept {
  ReentrancyGuard guard;
  if (!guard.entered()) {
    return;
  }
  if (!ticket.known) {
    // A block the profiler never saw (allocated before the run): DHAT counts the realloc as a
    // fresh allocation at this call site.
    if (new_block != nullptr) {
      record_new_block(new_block, bytes);
    }
    return;
  }
  RecorderState& s = state();
  std::lock_guard<std::mutex> hold(s.lock);
  if (!phase_is(Phase::recording)) {
    return;
  }
  if (new_block == nullptr) {
    // realloc failed: the old block is untouched and still live.
    s.live.insert(reinterpret_cast<std::uintptr_t>(old_block), ticket.block);
    return;
  }
  LiveBlock moved = ticket.block;
  moved.size = bytes;
  if (!s.live.insert(reinterpret_cast<std::uintptr_t>(new_block), moved)) {
    // The block can no longer be tracked: account it as freed so the totals stay consistent.
    s.model.on_free(ticket.block.pp, ticket.block.size, ticket.block.birth_us, s.clock.now_us());
    ++s.dropped;
    return;
  }
  s.model.on_realloc(ticket.block.pp, ticket.block.size, bytes, s.clock.now_us());
}

GlobalCounters current_counters() noexcept {
  ReentrancyGuard guard;
  RecorderState& s = state();
  std::lock_guard<std::mutex> hold(s.lock);
  if (!phase_is(Phase::recording)) {
    return GlobalCounters{};
  }
  GlobalCounters counters = s.model.global();
  counters.tend_us = s.clock.now_us();
  return counters;
}

bool stop_recording() noexcept {
  ReentrancyGuard guard;
  RecorderState& s = state();
  std::lock_guard<std::mutex> hold(s.lock);
  if (!phase_is(Phase::recording)) {
    return false;
  }
  g_phase.store(static_cast<int>(Phase::stopped), std::memory_order_relaxed);
  s.model.finish(s.clock.now_us());
  return true;
}

const HeapModel& frozen_model() noexcept { return state().model; }
const StackTable& frozen_stacks() noexcept { return state().stacks; }
std::size_t dropped_events() noexcept { return state().dropped; }

void release_recording() noexcept {
  ReentrancyGuard guard;
  RecorderState& s = state();
  std::lock_guard<std::mutex> hold(s.lock);
  if (!phase_is(Phase::stopped)) {
    return;
  }
  s.stacks.clear();
  s.live.clear();
  s.model.clear();
  g_phase.store(static_cast<int>(Phase::idle), std::memory_order_relaxed);
}

}  // namespace dhat::core
