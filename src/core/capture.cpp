#include "core/capture.hpp"

#include <pthread.h>

#include "core/internal_pages.hpp"
#include "core/reentrancy_guard.hpp"
#include "core/signals_blocked.hpp"

namespace dhat::core {

namespace {

// This thread's memo (null until its first capture), and whether its exit's clean-up gave it
// back (the walks of its last allocations then go without one).
DHAT_CONSTINIT thread_local StackMemo* t_stack_memo DHAT_TLS = nullptr;
DHAT_CONSTINIT thread_local bool t_stack_memo_retired DHAT_TLS = false;

// pthread key destructor: the thread is exiting; its memo goes to the pool.
void retire_memo(void* memo) {
  RecorderLock s;
  auto* retired = static_cast<StackMemo*>(memo);
  retired->next_free = s->free_memos;
  s->free_memos = retired;
  t_stack_memo = nullptr;
  t_stack_memo_retired = true;
}

// A memo for this thread from the pool or fresh zeroed pages; null if there is none to have.
// Only the program's own events walk with a memo (capture): a signal handler's held event walks
// without one (the interrupted capture may be using it).
__attribute__((noinline)) StackMemo* claim_memo_for_this_thread() noexcept {
  if (t_stack_memo_retired) {
    return nullptr;
  }
  RecorderLock s;
  if (!s->memo_key_ready) {
    if (pthread_key_create(&s->memo_key, &retire_memo) != 0) {
      t_stack_memo_retired = true;  // no clean-up at exit: walk without a memo
      return nullptr;
    }
    s->memo_key_ready = true;
  }
  StackMemo* memo = s->free_memos;
  if (memo != nullptr) {
    s->free_memos = memo->next_free;
  } else {
    memo = static_cast<StackMemo*>(map_zeroed_pages(sizeof(StackMemo)));
    if (memo == nullptr) {
      return nullptr;  // tried again at the next capture
    }
  }
  bool registered = false;
  {
    const OwnLibcCall own;  // its calloc is the profiler's own (see RecorderMark)
    registered = pthread_setspecific(s->memo_key, memo) == 0;
  }
  if (!registered) {
    memo->next_free = s->free_memos;
    s->free_memos = memo;
    t_stack_memo_retired = true;
    return nullptr;
  }
  t_stack_memo = memo;
  return memo;
}

}  // namespace

PpId intern_stack(RecorderState& s, const RawStack& stack, std::uint32_t generation) noexcept {
  // Inside the recorder's critical code while the stack table's lock is held (see t_holds_lock).
  const RecorderMark marked;
  PpId pp = kNoPp;
  {
    StacksLock hold(s);
    if (s.stacks_generation == generation) {
      pp = s.stacks.intern(stack.frames, stack.depth, hash_stack(stack.frames, stack.depth));
    }
  }
  return pp;
}

DHAT_CAPTURE_PATH void capture(const RecorderState& s, CapturedStack& c, EntryFrame entry_frame) noexcept {
  const std::size_t max_frames = s.settings.max_frames;
  c.generation = g_generation.load(std::memory_order_relaxed);
  if (!has_entry_frame(entry_frame) || s.settings.unwinder != Unwinder::cfi_cache) {
    capture_stack(c.stack, max_frames);
    return;
  }
  const CallerFrame start = caller_frame_of(entry_frame);
  StackMemo* memos = t_stack_memo;
  if (__builtin_expect(memos == nullptr, 0)) {
    memos = claim_memo_for_this_thread();
  }
  StackMemoEntry* memo = nullptr;
  if (memos != nullptr) {
    const std::size_t set = memos->set_of(start);
    for (std::size_t way = 0; way < StackMemo::kWays; ++way) {
      StackMemoEntry& entry = memos->way(set, way);
      if (entry.generation == c.generation && entry.frames[0] == start.ip &&
          cfi_same_walk(start, entry.frames, entry.rules, entry.depth, entry.ends_with_zero, max_frames)) {
        memos->touch(entry);
        c.memo = &entry;
        c.memo_hit = true;
        return;
      }
    }
    memo = &memos->victim(set);
    memos->touch(*memo);
  }
  if (!cfi_walk(start, c.stack, max_frames, &c.trace)) {
    g_libgcc_walks.fetch_add(1, std::memory_order_relaxed);
    capture_stack_with(c.stack, max_frames, Unwinder::libgcc);  // trims the profiler's frames itself
    return;
  }
  if (c.stack.depth <= StackMemoEntry::kFrames) {
    c.memo = memo;
  }
}

PpId intern_and_remember(RecorderState& s, CapturedStack& c) noexcept {
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

}  // namespace dhat::core
