// Stack capture: the cached-CFI walker first (cfi_unwinder.hpp), and libgcc's DWARF unwinder
// (_Unwind_Backtrace, ~100 ns a frame here) for the stacks it does not model. Both read the same
// .eh_frame rules, so both give the same addresses; tests/unit compares them.
#include "core/stack_capture.hpp"

#include <unwind.h>

#include <atomic>

#include "core/cfi_unwinder.hpp"
#include "core/signals_blocked.hpp"

namespace {

// Bounds of the `dhat_text` section, provided by the linker. Weak: a binary without any
// DHAT_CAPTURE_PATH function (the core unit tests) gets null and skips nothing.
extern "C" const char __start_dhat_text[] __attribute__((weak));  // NOLINT(bugprone-reserved-identifier)
extern "C" const char __stop_dhat_text[] __attribute__((weak));   // NOLINT(bugprone-reserved-identifier)

struct UnwindState {
  dhat::core::RawStack* out;
  std::size_t max_frames;
  bool still_in_profiler;
};

bool inside_profiler(std::uintptr_t ip) { return dhat::core::in_capture_path(ip); }

_Unwind_Reason_Code on_frame(struct _Unwind_Context* context, void* arg) {
  auto* state = static_cast<UnwindState*>(arg);
  const std::uintptr_t ip = _Unwind_GetIP(context);
  if (ip == 0) {
    return _URC_END_OF_STACK;
  }
  if (state->still_in_profiler) {
    if (inside_profiler(ip)) {
      return _URC_NO_REASON;
    }
    state->still_in_profiler = false;
  }
  state->out->frames[state->out->depth++] = ip;
  return state->out->depth >= state->max_frames ? _URC_END_OF_STACK : _URC_NO_REASON;
}

}  // namespace

namespace dhat::core {

std::atomic<int> g_unwinder{static_cast<int>(Unwinder::cfi_cache)};

void set_unwinder(Unwinder unwinder) noexcept {
  g_unwinder.store(static_cast<int>(unwinder), std::memory_order_relaxed);
}

DHAT_CAPTURE_PATH void capture_stack_with(RawStack& out, std::size_t max_frames, Unwinder unwinder) noexcept {
  out.depth = 0;
  if (max_frames == 0) {
    return;
  }
  if (max_frames > kMaxFramesLimit) {
    max_frames = kMaxFramesLimit;
  }
  if (unwinder == Unwinder::cfi_cache && cfi_capture(out, max_frames, &inside_profiler)) {
    return;
  }
  out.depth = 0;
  UnwindState state{&out, max_frames, true};
  const OwnLibcCall own;  // libgcc's allocations (a static program's FDE sorting) are the profiler's
  _Unwind_Backtrace(&on_frame, &state);
}

DHAT_CAPTURE_PATH void capture_stack(RawStack& out, std::size_t max_frames) noexcept {
  capture_stack_with(out, max_frames, static_cast<Unwinder>(g_unwinder.load(std::memory_order_relaxed)));
}

bool in_capture_path(std::uintptr_t address) noexcept {
  const auto begin = reinterpret_cast<std::uintptr_t>(__start_dhat_text);
  const auto end = reinterpret_cast<std::uintptr_t>(__stop_dhat_text);
  return address >= begin && address < end;
}

std::uint64_t hash_stack(const std::uintptr_t* frames, std::uint32_t depth) noexcept {
  // 64-bit multiply-xorshift over the addresses: cheap and well mixed for pointer values.
  std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ depth;
  for (std::uint32_t i = 0; i < depth; ++i) {
    h ^= frames[i];
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 31;
  }
  return h;
}

}  // namespace dhat::core
