// AArch64 (core/arch.hpp says what each name means).
#pragma once

#include <cstddef>
#include <cstdint>

namespace dhat::core {

inline constexpr std::size_t kCacheLineBytes = 64;  // Neoverse, Cortex-A (Apple's 128 is not a Linux target here)

// "DWARF for the Arm 64-bit Architecture": x29 (fp), x30 (lr), sp.
inline constexpr int kDwarfFp = 29;
inline constexpr int kDwarfSp = 31;
inline constexpr int kDwarfReturnAddress = 30;
// CFI may say a return address is signed (DW_CFA_AARCH64_negate_ra_state, code built with
// -mbranch-protection=standard or pac-ret): the walker strips the signature before using it.
inline constexpr bool kSignedReturnAddresses = true;
// A call leaves its return address in x30; the callee saves it where it likes (its CFI says).
inline constexpr bool kReturnAddressAtFixedOffset = false;
inline constexpr std::int32_t kReturnAddressFromCfa = 0;  // unused

// The registers of a frame: where it executes (a return address into it), its stack pointer
// and its frame pointer register (x29).
struct CallerFrame {
  std::uintptr_t ip = 0;
  std::uintptr_t sp = 0;
  std::uintptr_t fp = 0;
};

// A hook's frame record (__builtin_frame_address(0): taking it makes GCC and Clang build one,
// x29 pointing at the saved x29 and x30) and its CFA (the stack pointer of the call into it,
// which the frame record does not give: AArch64 frames put their record anywhere in the frame).
struct EntryFrame {
  const void* frame = nullptr;
  const void* cfa = nullptr;
};
#define DHAT_ENTRY_FRAME() \
  (::dhat::core::EntryFrame{__builtin_frame_address(0), static_cast<const void*>(__builtin_dwarf_cfa())})
inline bool has_entry_frame(const EntryFrame& frame) noexcept { return frame.frame != nullptr; }

// A return address as a code address: without the pointer-authentication code that a function
// built with -mbranch-protection signed it with. XPACLRI works on x30 and is in the hint space:
// on a processor without pointer authentication it does nothing (and there is nothing to strip).
inline std::uintptr_t strip_return_address(std::uintptr_t address) noexcept {
  register std::uintptr_t lr asm("x30") = address;
  asm("hint #7" : "+r"(lr));  // xpaclri
  return lr;
}

// The caller of the function whose frame is `entry`: its frame record holds the caller's x29
// and the return address into the caller.
inline CallerFrame caller_frame_of(const EntryFrame& entry) noexcept {
  const auto* record = static_cast<const std::uintptr_t*>(entry.frame);
  return CallerFrame{strip_return_address(record[1]), reinterpret_cast<std::uintptr_t>(entry.cfa), record[0]};
}

// ---- The generic timer's virtual counter (CNTVCT_EL0) ----
// A read of the counter is not a memory access, and the processor may perform it early or late
// relative to the loads and stores around it: the two fenced readings below pin it down.
inline std::uint64_t read_counter() noexcept {
  std::uint64_t ticks = 0;
  asm volatile("mrs %0, cntvct_el0" : "=r"(ticks));
  return ticks;
}

// DSB waits until every earlier load and store has completed (a store: visible to every core);
// ISB then keeps the counter read from being performed before that.
inline std::uint64_t counter_after_earlier() noexcept {
  std::uint64_t ticks = 0;
  asm volatile("dsb ish\n\tisb\n\tmrs %0, cntvct_el0" : "=r"(ticks) : : "memory");
  return ticks;
}

// The reading feeds a load of a stack slot through a false data dependency (its address is sp +
// (ticks ^ ticks)), so that load is performed after the reading; DMB ISHLD then orders every
// later load after that one (Linux's arch_counter_enforce_ordering does the same).
inline std::uint64_t counter_before_later() noexcept {
  std::uint64_t ticks = 0, scratch = 0;
  asm volatile(
      "mrs %0, cntvct_el0\n\t"
      "eor %1, %0, %0\n\t"
      "add %1, sp, %1\n\t"
      "ldr xzr, [%1]\n\t"
      "dmb ishld"
      : "=&r"(ticks), "=&r"(scratch)
      :
      : "memory");
  return ticks;
}

// The architecture's system counter: one frequency (CNTFRQ_EL0) for the system's life, one count
// for every core.
inline bool counter_is_invariant() noexcept { return true; }
inline bool counters_agree_across_cpus() noexcept { return true; }

inline std::uint64_t counter_hz() noexcept {
  std::uint64_t hz = 0;
  asm volatile("mrs %0, cntfrq_el0" : "=r"(hz));
  return hz;
}

// Whether two threads' events that depend on each other (a block freed by one and handed out
// again to the other) always get different readings, so that the stamps alone order them. A
// tick of 1 ns (Armv8.6 fixes the counter at 1 GHz) is far shorter than any such hand-off; the
// 25-250 MHz counters of earlier processors, and qemu's 62.5 MHz, give two such events the same
// reading often enough (seen: 5,107 of 20,000 blocks left live in Recorder/HandOffTest under
// qemu). There, every event takes the recorder's lock instead: slower with threads, as exact.
inline bool counter_orders_hand_offs() noexcept { return counter_hz() >= 1'000'000'000; }

inline void prefetch_for_write(const void* address) noexcept { __builtin_prefetch(address, 1, 3); }

// A spinning thread's pause (YIELD: a hint that another thread could use the core).
inline void spin_pause() noexcept { asm volatile("yield" ::: "memory"); }

}  // namespace dhat::core
