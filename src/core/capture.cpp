#include "core/capture.hpp"

namespace dhat::core {

namespace {
thread_local StackMemo t_stack_memo DHAT_TLS;
}  // namespace

PpId intern_stack(RecorderState& s, const RawStack& stack, std::uint32_t generation) noexcept {
  // Inside the recorder's critical code while the stack table's lock is held (see t_holds_lock).
  const bool holds = t_holds_lock;
  t_holds_lock = true;
  PpId pp = kNoPp;
  {
    StacksLock hold(s);
    if (s.stacks_generation == generation) {
      pp = s.stacks.intern(stack.frames, stack.depth, hash_stack(stack.frames, stack.depth));
    }
  }
  t_holds_lock = holds;
  return pp;
}

DHAT_CAPTURE_PATH void capture(const RecorderState& s, CapturedStack& c, const void* entry_frame) noexcept {
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
