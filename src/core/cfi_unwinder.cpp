#include "core/cfi_unwinder.hpp"

#include <atomic>

#include "core/dwarf_cfi.hpp"

namespace {

// The rule cache: a fixed open table, each slot a (pc, packed rule) pair of atomics. A reader
// re-reads the key after the value, so a slot being rewritten is a miss, never a wrong rule.
constexpr std::size_t kCacheSlots = 1 << 16;
struct CacheSlot {
  std::atomic<std::uintptr_t> pc{0};
  std::atomic<std::uint64_t> packed{0};
};
CacheSlot g_cache[kCacheSlots];

// A rule in 64 bits: flags in bits 0-7, the frame pointer's offset in 8-23 and the return
// address's in 24-39 (int16 each), the CFA's offset in 40-63 (int24). A rule whose offsets do
// not fit is not cached and counts as unmodelled (libgcc walks such a stack).
constexpr std::uint64_t kValid = 1, kCfaFromFp = 2, kFpSaved = 4, kOutermost = 8, kNoFde = 16, kSigned = 32;

bool fits(const dhat::core::UnwindRule& r) {
  return r.fp_offset >= -32768 && r.fp_offset <= 32767 && r.return_address_offset >= -32768 &&
         r.return_address_offset <= 32767 && r.cfa_offset >= -(1 << 23) && r.cfa_offset < (1 << 23);
}

std::uint64_t pack(const dhat::core::UnwindRule& r) {
  return (r.valid ? kValid : 0) | (r.cfa_from_fp ? kCfaFromFp : 0) | (r.fp_saved ? kFpSaved : 0) |
         (r.outermost ? kOutermost : 0) | (r.no_fde ? kNoFde : 0) | (r.return_address_signed ? kSigned : 0) |
         (static_cast<std::uint64_t>(static_cast<std::uint16_t>(static_cast<std::int16_t>(r.fp_offset))) << 8) |
         (static_cast<std::uint64_t>(static_cast<std::uint16_t>(static_cast<std::int16_t>(r.return_address_offset)))
          << 24) |
         (static_cast<std::uint64_t>(r.cfa_offset) << 40);
}

// The packed rule for the code at `pc`.

std::uint64_t cached_rule(std::uintptr_t pc) {
  CacheSlot& slot = g_cache[((pc * 0x9E3779B97F4A7C15ULL) >> 48) & (kCacheSlots - 1)];
  if (slot.pc.load(std::memory_order_acquire) == pc) {
    const std::uint64_t packed = slot.packed.load(std::memory_order_acquire);
    if (slot.pc.load(std::memory_order_acquire) == pc) {
      return packed;
    }
  }
  const dhat::core::UnwindRule rule = dhat::core::rule_for_pc(pc);
  if (!fits(rule)) {
    return 0;  // an offset that does not fit: an unmodelled rule (invalid)
  }
  const std::uint64_t packed = pack(rule);
  slot.pc.store(0, std::memory_order_release);
  slot.packed.store(packed, std::memory_order_release);
  slot.pc.store(pc, std::memory_order_release);
  return packed;
}

// Packed-rule fields, read without unpacking on the walk's hot loop.
constexpr bool rule_valid(std::uint64_t r) { return (r & kValid) != 0; }
constexpr bool rule_ends_stack(std::uint64_t r) { return (r & (kOutermost | kNoFde)) != 0; }
constexpr bool rule_cfa_from_fp(std::uint64_t r) { return (r & kCfaFromFp) != 0; }
constexpr bool rule_fp_saved(std::uint64_t r) { return (r & kFpSaved) != 0; }
[[maybe_unused]] constexpr bool rule_signed(std::uint64_t r) { return (r & kSigned) != 0; }
constexpr std::intptr_t rule_fp_offset(std::uint64_t r) {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(r >> 8));
}
[[maybe_unused]] constexpr std::intptr_t rule_return_address_offset(std::uint64_t r) {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(r >> 24));
}
constexpr std::intptr_t rule_cfa_offset(std::uint64_t r) { return static_cast<std::int64_t>(r) >> 40; }

// One step up the stack with a valid rule: false if the result makes no sense.
inline bool step(std::uint64_t rule, dhat::core::CallerFrame& regs) {
  using namespace dhat::core;
  const std::uintptr_t cfa = (rule_cfa_from_fp(rule) ? regs.fp : regs.sp) + rule_cfa_offset(rule);
  if (cfa <= regs.sp) {
    return false;  // a caller's frame is always above its callee's: something is off
  }
  if constexpr (kReturnAddressAtFixedOffset) {
    regs.ip = *reinterpret_cast<const std::uintptr_t*>(cfa + kReturnAddressFromCfa);
  } else {
    const std::uintptr_t saved = *reinterpret_cast<const std::uintptr_t*>(cfa + rule_return_address_offset(rule));
    regs.ip = rule_signed(rule) ? strip_return_address(saved) : saved;
  }
  if (rule_fp_saved(rule)) {
    regs.fp = *reinterpret_cast<const std::uintptr_t*>(cfa + rule_fp_offset(rule));
  }
  regs.sp = cfa;
  return true;
}

// The walk shared by both entry points. Frames for which `is_profiler_frame` is true are skipped
// while they lead the stack. Returns false when a frame needs libgcc.
template <typename SkipFrame>
bool walk(dhat::core::CallerFrame regs, dhat::core::RawStack& out, std::size_t max_frames, SkipFrame skip,
          dhat::core::WalkTrace* trace) {
  out.depth = 0;
  if (trace != nullptr) {
    trace->ends_with_zero = false;
  }
  bool trimming = true;
  for (int guard = 0; guard < 1024 && out.depth < max_frames; ++guard) {
    if (regs.ip == 0) {
      if (trace != nullptr) {
        trace->ends_with_zero = true;
      }
      return true;
    }
    const std::uint64_t rule = cached_rule(regs.ip - 1);
    if (trimming && !skip(regs.ip)) {
      trimming = false;
    }
    if (!trimming) {
      if (trace != nullptr) {
        trace->rules[out.depth] = rule;
      }
      out.frames[out.depth++] = regs.ip;
      if (out.depth >= max_frames) {
        return true;
      }
    }
    if (rule_ends_stack(rule)) {
      return true;  // _start or clone3 (undefined return address), or code without an FDE
    }
    if (!rule_valid(rule) || !step(rule, regs)) {
      return false;
    }
  }
  return true;
}

}  // namespace

namespace dhat::core {

DHAT_CAPTURE_PATH bool cfi_capture(RawStack& out, std::size_t max_frames,
                                   bool (*is_profiler_frame)(std::uintptr_t)) noexcept {
  // This function keeps a frame pointer (it takes its own frame address), so its caller's
  // registers are known exactly.
  return walk(caller_frame_of(DHAT_ENTRY_FRAME()), out, max_frames, is_profiler_frame, nullptr);
}

bool cfi_walk(const CallerFrame& start, RawStack& out, std::size_t max_frames, WalkTrace* trace) noexcept {
  return walk(
      start, out, max_frames, [](std::uintptr_t) { return false; }, trace);
}

bool cfi_same_walk(const CallerFrame& start, const std::uintptr_t* frames, const std::uint64_t* rules,
                   std::uint32_t depth, bool ends_with_zero, std::size_t max_frames) noexcept {
  CallerFrame regs = start;
  for (std::uint32_t i = 0; i < depth; ++i) {
    if (regs.ip != frames[i]) {
      return false;
    }
    // The same return address has the same rule, so the remembered one applies.
    const std::uint64_t rule = rules[i];
    if (i + 1 == depth && (depth >= max_frames || rule_ends_stack(rule))) {
      return true;
    }
    if (!rule_valid(rule) || !step(rule, regs)) {
      return false;
    }
  }
  return ends_with_zero && regs.ip == 0;
}

}  // namespace dhat::core
