// The recorder's entry points and run lifecycle, and the one routing decision every heap event
// goes through (route_event).
#include "core/recorder.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/single_threaded.h>

#include "core/accounting.hpp"
#include "core/allocator_code.hpp"
#include "core/capture.hpp"
#include "core/handler_events.hpp"
#include "core/recorder_state.hpp"
#include "core/reentrancy_guard.hpp"
#include "core/thread_merge.hpp"

namespace dhat::core {

namespace {

// An alloc or free event of the process's one thread, stamped now: applied at once while the
// live table fits the cache, else through the delay line. A realloc's steps are applied at once,
// after what waits (detaching the old block needs no time).
__attribute__((always_inline)) inline void record_single_threaded(const Locked& s, const HeapEvent& e) {
  const EventKind kind = e.kind();
  if (kind == EventKind::alloc || kind == EventKind::free) {
    const std::uint64_t now = s->clock.now_us();
    if (s->live.outgrew_cache()) {
      s->delay.push(now, e, &t_state, [&s](const DelayedEvent& oldest, ThreadState& thread) {
        apply_alloc_or_free(s, thread, oldest.event, oldest.time_us);
      });
      return;
    }
    flush_delay_line(s);
    apply_alloc_or_free(s, t_state, e, now);
    return;
  }
  flush_delay_line(s);
  apply_event(s, t_state, e, kind == EventKind::realloc_from ? 0 : event_time(s, s->clock.now_us()));
}

// Where route_event took an event.
struct Routed {
  bool published = false;             // into this thread's ring, to be applied later
  ThreadState* applied_to = nullptr;  // applied now, to this thread state
};

// For an event made without a capture (a free, a realloc's steps): it belongs to whichever run
// records when it is applied. Known at compile time, so a free needs no look at the run number.
constexpr std::uint32_t kCurrentRun = ~std::uint32_t{0};

// The three ways a heap event reaches the profile, decided here and nowhere else:
//  - the process has one thread: no lock, and the clock alone orders events;
//  - threads buffer their events: into this thread's ring, applied later in stamp order;
//  - otherwise: take the lock, apply what waits, then this event.
// Events of another run (`generation`, or kCurrentRun) or made after stop are dropped. The
// fields come by value, so that the event is written straight to where it is kept.
__attribute__((always_inline)) inline Routed route_event(EventKind kind, std::uintptr_t address, std::uint64_t size,
                                                         PpId pp, std::uint32_t generation) {
  Routed routed;
  if (__libc_single_threaded != 0) {
    RecorderLock s;  // takes no lock: see RecorderLock
    if (phase_is(Phase::recording) && (generation == kCurrentRun || generation == s->generation)) {
      record_single_threaded(s, HeapEvent::make(kind, address, size, pp, s->generation));
      routed.applied_to = &t_state;
    }
    return routed;
  }
  if (ThreadBuffer* buffer = buffer_for_this_thread()) {
    if (generation == kCurrentRun) {
      generation = g_generation.load(std::memory_order_relaxed);
    }
    publish(*buffer, HeapEvent::make(kind, address, size, pp, generation));
    routed.published = true;
    return routed;
  }
  RecorderLock s;
  if (!phase_is(Phase::recording) || (generation != kCurrentRun && generation != s->generation)) {
    return routed;
  }
  // The state's cache lines were probably last written by another core: start loading them all.
  s->live.prefetch_own_fields();
  s->model.prefetch_for(pp);
  apply_waiting_events(s);
  std::uint64_t now = 0;
  if (kind != EventKind::realloc_from) {  // detaching the old block needs no time
    now = event_time(s, s->clock.now_us());
    s->timeline.prefetch_for(now);
  }
  routed.applied_to = &own_state(s);
  apply_event(s, *routed.applied_to, HeapEvent::make(kind, address, size, pp, s->generation), now);
  return routed;
}

std::uint32_t current_generation() noexcept { return g_generation.load(std::memory_order_relaxed); }

// True while this thread replays its handlers' held events (a nested entry point leaves them to it).
DHAT_CONSTINIT thread_local bool t_replaying DHAT_TLS = false;

// A held free's (or moving realloc's) block, handed back once its event is recorded: only now
// may the address be handed out again. Every signal blocked, as in the handler that freed it: a
// handler of the program's never runs inside this free.
void release_held_block(std::uintptr_t block, const DeferredRelease& later) noexcept {
  if (later.release == nullptr) {
    return;  // the hook freed it already
  }
  sigset_t all;
  sigset_t before;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &before);
  {
    // No handler can run here: what comes back into the hooks is the allocator's own (a free
    // that jumps to another of its names), never a program's call.
    const ReentrancyGuard guard;
    later.release(reinterpret_cast<void*>(block), later);
  }
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

// One held event, routed as its hook would have routed it had the thread not been inside.
void replay(const HeldEvent& e) {
  const auto site = [&e] { return intern_stack(state(), e.stack, e.generation); };
  switch (e.kind) {
    case HeldKind::alloc:
      route_event(EventKind::alloc, e.block, e.bytes, site(), e.generation);
      return;
    case HeldKind::free:
      route_event(EventKind::free, e.block, 0, kNoPp, kCurrentRun);
      release_held_block(e.block, e.later);
      return;
    case HeldKind::realloc: {
      const Routed routed = route_event(EventKind::realloc_from, e.old_block, 0, kNoPp, kCurrentRun);
      const bool known = routed.applied_to != nullptr && routed.applied_to->detached_known;
      if (!routed.published && !known) {
        route_event(EventKind::alloc, e.block, e.bytes, site(), e.generation);  // as realloc_attach
      } else if (routed.published) {
        route_event(EventKind::realloc_to, e.block, e.bytes, site(), e.generation);
      } else {
        route_event(EventKind::realloc_to, e.block, e.bytes, kNoPp, kCurrentRun);
      }
      release_held_block(e.old_block, e.later);
      return;
    }
  }
}

// A call of the program's hook made while this thread is inside the next allocator (an
// AllocatorCall) that is a signal handler's, not the allocator's own (core/allocator_code.hpp).
// Without an entry frame (the recorder's unit tests) there is no caller to tell by. Out of line
// and cold: only a thread already inside the profiler or the allocator gets here, and inlined its
// call made every allocation's path save registers it does not need.
__attribute__((noinline, cold)) bool handler_inside_allocator(EntryFrame entry_frame) noexcept {
  return t_inside_profiler == kInsideAllocator && has_entry_frame(entry_frame) &&
         interrupts_allocator(caller_frame_of(entry_frame).ip);
}

DHAT_CAPTURE_PATH void record_new_block(void* block, std::size_t bytes, EntryFrame entry_frame) {
  // Marked from the walk to the event's publication: a signal handler that interrupts any of it
  // has its events held (and recorded when record_alloc returns), where a ReentrancyGuard over
  // the walk passed them through unrecorded.
  const RecorderMark marked;
  RecorderState& recorder = state();
  CapturedStack captured;
  capture(recorder, captured, entry_frame);
  const PpId pp = program_point_of(recorder, captured);
  route_event(EventKind::alloc, reinterpret_cast<std::uintptr_t>(block), bytes, pp, captured.generation);
}

}  // namespace

bool start_recording(const RecorderSettings& settings) noexcept {
  ReentrancyGuard guard;
  RecorderLock s;
  if (!phase_is(Phase::idle)) {
    return false;
  }
  install_fork_handlers();
  s->settings = settings;
  if (s->settings.max_frames > kMaxFramesLimit) {
    s->settings.max_frames = kMaxFramesLimit;
  }
  const std::uint32_t generation = current_generation() + 1;
  {
    StacksLock stacks(*s);
    s->stacks.clear();
    s->stacks_generation = generation;
  }
  s->generation = generation;
  s->delay.clear();  // events of an earlier run, already applied or dropped
  s->live.clear();
  s->model.clear();
  s->timeline.clear();
  s->dropped = 0;
  s->last_event_us = 0;
  s->last_merged_tsc = 0;
  g_libgcc_walks.store(0, std::memory_order_relaxed);
  g_unrecorded_handler_events.store(0, std::memory_order_relaxed);
  g_generation.store(generation, std::memory_order_relaxed);
  set_unwinder(settings.unwinder);
  s->clock.start();
  s->rss.start(s->clock.now_us(), settings.record_rss && !settings.ad_hoc);
  // Buffered events are ordered by their counter stamps across CPUs: only with counters that
  // agree across CPUs and tick finely enough to order threads' dependent events (core/arch.hpp).
  // Otherwise each event takes the lock (slower, same numbers).
  g_buffered.store(settings.thread_buffers && !settings.ad_hoc && s->clock.uses_counter() &&
                       counters_agree_across_cpus() && counter_orders_hand_offs(),
                   std::memory_order_relaxed);
  set_phase(settings.ad_hoc ? Phase::ad_hoc : Phase::recording);
  return true;
}

void replay_held_events() noexcept {
  if (t_holds_lock || t_replaying) {
    return;  // the outermost entry point, or the replay in progress, takes them
  }
  for (;;) {
    // Marked for the whole replay: a handler's events meanwhile are held too, and join it. Not
    // only tidier: a handler's realloc between a replayed realloc's two steps would take the
    // thread's one detached block (found as blocks left live at t-end). The mark is set before
    // t_replaying and cleared after it: a handler that finds t_replaying set always finds the
    // mark set too, and holds its events rather than recording them ahead of the held ones.
    t_holds_lock = true;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    t_replaying = true;
    // A handler that publishes during a scan (beyond its horizon) counts its event after the
    // exchange that began this round: the next round finds it.
    while (t_held_events.exchange(0, std::memory_order_relaxed) != 0) {
      while (HeldEvent* event = oldest_held_event_of_this_thread()) {
        replay(*event);
        release_held_event(*event);
      }
    }
    t_replaying = false;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    t_holds_lock = false;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    // A handler that ran after the last look and before the mark was cleared held its events,
    // and nothing else may come back for them (the thread may never enter again): once more. A
    // handler from here on finds no mark and replays what is held itself, before its own event.
    if (t_held_events.load(std::memory_order_relaxed) == 0) {
      return;
    }
  }
}

namespace {

// Only a signal handler gets here: this thread is inside the recorder's critical code (it holds
// a lock, walks the stack of an event of its own, or is half-way through publishing one), and
// the profiler's own code there never allocates through the hooks. Recording now would take the
// lock this thread holds (a thread draining the buffers, interrupted, waited for itself forever),
// reuse the walk's memo or write into the half-written slot: the event is held, and recorded
// when the thread leaves (or, the pool full, counted as not recorded and said at the end). Out
// of line and cold: inlined, its guard's saved mark took a register every allocation saved.
DHAT_CAPTURE_PATH __attribute__((cold)) void hold_handlers_alloc(void* block, std::size_t bytes) noexcept {
  const ReentrancyGuard guard;  // what the hold's own walk may allocate is not the handler's
  if (!hold_alloc(reinterpret_cast<std::uintptr_t>(block), bytes)) {
    g_unrecorded_handler_events.fetch_add(1, std::memory_order_relaxed);
  }
}

// record_alloc's call from a thread already inside the profiler (a ReentrancyGuard: its own
// allocation) or the next allocator (an AllocatorCall: the allocator's own), recorded only when
// it is neither: a signal handler's that interrupted the allocator. Out of line and cold, as
// hold_handlers_alloc.
DHAT_CAPTURE_PATH __attribute__((cold)) void record_alloc_from_inside(void* block, std::size_t bytes,
                                                                      EntryFrame entry_frame) noexcept {
  if (!handler_inside_allocator(entry_frame)) {
    return;
  }
  if (t_holds_lock) {
    hold_handlers_alloc(block, bytes);
    return;
  }
  replay_held_events_if_any();  // as below
  record_new_block(block, bytes, entry_frame);
}

}  // namespace

DHAT_CAPTURE_PATH void record_alloc(void* block, std::size_t bytes, EntryFrame entry_frame) noexcept {
  const ReplayHeldEventsOnReturn replay_after;
  if (__builtin_expect(t_inside_profiler != kOutsideProfiler, 0) || block == nullptr) {
    if (block != nullptr) {
      record_alloc_from_inside(block, bytes, entry_frame);
    }
    return;
  }
  if (__builtin_expect(t_holds_lock, 0)) {
    hold_handlers_alloc(block, bytes);
    return;
  }
  // Events a handler made while this thread was marked outside any entry point (the internal
  // allocator's lock, a state reader's) happened before this one: recorded after it, a handler's
  // block at an address glibc just handed out again was added twice and the first stayed live
  // (seen as 24 bytes left live at t-end, and a realloc charged to the wrong site).
  replay_held_events_if_any();
  record_new_block(block, bytes, entry_frame);
}

void prepare_free(void* block) noexcept {
  // A buffered free is applied later, maybe by another thread: loading its slot now is wasted.
  if (__libc_single_threaded == 0 && g_buffered.load(std::memory_order_relaxed)) {
    return;
  }
  state().live.prefetch(reinterpret_cast<std::uintptr_t>(block));
}

namespace {

// record_free and record_free_before_release: true when held with `later` set.
__attribute__((always_inline)) inline bool record_free_of(void* block, const DeferredRelease& later) noexcept {
  // No reentrancy guard: a free by the profiler's own code (outside the lock) must still be
  // seen, or a program block it releases would stay "live" in the table.
  if (block == nullptr) {
    return false;
  }
  const ReplayHeldEventsOnReturn replay_after;
  if (__builtin_expect(t_holds_lock, 0)) {
    // Inside the profiler's own code (a state reader's free): not the program's block. Outside
    // it, only a signal handler can free here (see record_alloc).
    if (t_inside_profiler) {
      return false;
    }
    if (!hold_free(reinterpret_cast<std::uintptr_t>(block), later)) {
      g_unrecorded_handler_events.fetch_add(1, std::memory_order_relaxed);
      return false;  // not recorded: the caller frees it now
    }
    return later.release != nullptr;
  }
  replay_held_events_if_any();  // held before this event (see record_alloc)
  route_event(EventKind::free, reinterpret_cast<std::uintptr_t>(block), 0, kNoPp, kCurrentRun);
  return false;
}

}  // namespace

void record_free(void* block) noexcept { static_cast<void>(record_free_of(block, DeferredRelease{})); }

bool record_free_before_release(void* block, const DeferredRelease& later) noexcept {
  return record_free_of(block, later);
}

ReallocTicket realloc_detach(void* old_block) noexcept {
  ReallocTicket ticket;
  if (old_block == nullptr) {
    return ticket;
  }
  if (__builtin_expect(t_holds_lock, 0)) {
    ticket.held = !t_inside_profiler;  // a signal handler's realloc (see record_free)
    return ticket;
  }
  replay_held_events_if_any();  // held before this event (see record_alloc); never after it
  const Routed routed =
      route_event(EventKind::realloc_from, reinterpret_cast<std::uintptr_t>(old_block), 0, kNoPp, kCurrentRun);
  // Applied already unless buffered: the thread state it changed says whether the block was live.
  ticket.buffered = routed.published;
  ticket.known = routed.applied_to != nullptr && routed.applied_to->detached_known;
  return ticket;
}

DHAT_CAPTURE_PATH void realloc_attach(const ReallocTicket& ticket, void* old_block, void* new_block, std::size_t bytes,
                                      EntryFrame entry_frame) noexcept {
  const ReplayHeldEventsOnReturn replay_after;
  if (__builtin_expect(ticket.held, 0)) {
    // A handler's realloc whose old block the allocator has already let go (the foreign
    // families' reallocs): held, with nothing left to hand back.
    if (new_block != nullptr) {
      static_cast<void>(realloc_attach_held(old_block, new_block, bytes, DeferredRelease{}));
    }
    return;
  }
  if (!ticket.buffered && !ticket.known) {
    // A block the profiler never saw (allocated before the run): DHAT counts the realloc as a
    // fresh allocation at this call site.
    if (new_block != nullptr) {
      record_alloc(new_block, bytes, entry_frame);
    }
    return;
  }
  if (new_block == nullptr) {
    route_event(EventKind::realloc_failed, reinterpret_cast<std::uintptr_t>(old_block), 0, kNoPp, kCurrentRun);
    return;
  }
  // Buffered, whether the old block was known is decided when the events are applied: capture
  // the site now in case it was not (the realloc then counts as an allocation here).
  std::uint32_t generation = kCurrentRun;
  PpId pp = kNoPp;
  if (ticket.buffered) {
    if (t_inside_profiler == kOutsideProfiler || handler_inside_allocator(entry_frame)) {
      const RecorderMark marked;  // as in record_new_block
      CapturedStack captured;
      capture(state(), captured, entry_frame);
      pp = program_point_of(state(), captured);
      generation = captured.generation;
    } else {
      // The profiler's own realloc (a snapshot writer's, the symbolizer's): its block was never
      // recorded, and the new one is not the program's, nor lost.
      pp = kProfilersOwnPp;
    }
  }
  route_event(EventKind::realloc_to, reinterpret_cast<std::uintptr_t>(new_block), bytes, pp, generation);
}

DHAT_CAPTURE_PATH bool realloc_attach_held(void* old_block, void* new_block, std::size_t bytes,
                                           const DeferredRelease& later) noexcept {
  const ReplayHeldEventsOnReturn replay_after;
  ReentrancyGuard guard;  // the capture's own allocations, if any, are not the handler's
  if (!guard.entered()) {
    return false;
  }
  if (!hold_realloc(reinterpret_cast<std::uintptr_t>(old_block), reinterpret_cast<std::uintptr_t>(new_block), bytes,
                    later)) {
    g_unrecorded_handler_events.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return later.release != nullptr;
}

DHAT_CAPTURE_PATH void record_ad_hoc_event(std::uint64_t weight) noexcept {
  const ReplayHeldEventsOnReturn replay_after;
  ReentrancyGuard guard;
  if (!guard.entered() || t_holds_lock || !phase_is(Phase::ad_hoc)) {  // t_holds_lock: see record_alloc
    return;
  }
  RawStack stack;
  capture_stack(stack, state().settings.max_frames);
  const std::uint32_t generation = current_generation();
  const PpId pp = intern_stack(state(), stack, generation);
  RecorderLock s;
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
  replay_held_events_if_any();  // held before the reading: part of what it reads
  const ReplayHeldEventsOnReturn replay_after;
  RecorderLock s;
  if (phase_is(Phase::idle) || phase_is(Phase::stopped)) {
    return GlobalCounters{};
  }
  apply_waiting_events(s);
  GlobalCounters counters = s->model.global();
  counters.tend_us = event_time(s, s->clock.now_us());
  return counters;
}

bool is_ad_hoc_run() noexcept {
  return phase_is(Phase::ad_hoc) || (phase_is(Phase::stopped) && state().settings.ad_hoc);
}

bool read_state(StateReader reader, void* context) noexcept {
  if (t_holds_lock) {
    return false;
  }
  replay_held_events_if_any();  // as in current_counters
  const ReplayHeldEventsOnReturn replay_after;
  ReentrancyGuard guard;
  RecorderLock s;
  if (phase_is(Phase::idle)) {
    return false;
  }
  apply_waiting_events(s);
  StacksLock stacks(*s);
  const std::uint64_t now = phase_is(Phase::stopped) ? s->model.global().tend_us : event_time(s, s->clock.now_us());
  reader(s->model, s->stacks, s->timeline, s->rss, now, context);
  return true;
}

bool stop_recording() noexcept {
  replay_held_events_if_any();                  // held before the stop: part of the run
  const ReplayHeldEventsOnReturn replay_after;  // dropped: held during the stop, after its end
  ReentrancyGuard guard;
  RecorderLock s;
  if (!phase_is(Phase::recording) && !phase_is(Phase::ad_hoc)) {
    return false;
  }
  apply_waiting_events(s);
  set_phase(Phase::stopped);
  const std::uint64_t end = event_time(s, s->clock.now_us());
  s->model.finish(end);
  s->rss.finish(end);
  return true;
}

std::size_t dropped_events() noexcept { return state().dropped; }

std::size_t unrecorded_handler_events() noexcept { return g_unrecorded_handler_events.load(std::memory_order_relaxed); }

std::size_t libgcc_walks() noexcept { return g_libgcc_walks.load(std::memory_order_relaxed); }

bool threads_buffer_events() noexcept { return g_buffered.load(std::memory_order_relaxed); }

void release_recording() noexcept {
  ReentrancyGuard guard;
  RecorderLock s;
  if (!phase_is(Phase::stopped)) {
    return;
  }
  {
    StacksLock stacks(*s);
    s->stacks.clear();
  }
  s->live.clear();
  s->model.clear();
  set_phase(Phase::idle);
}

}  // namespace dhat::core
