// x86-64 (core/arch.hpp says what each name means).
#pragma once

#include <cpuid.h>
#include <fcntl.h>
#include <unistd.h>
#include <x86intrin.h>

#include <cstddef>
#include <cstdint>

namespace dhat::core {

inline constexpr std::size_t kCacheLineBytes = 64;

// System V psABI, "DWARF Register Number Mapping".
inline constexpr int kDwarfFp = 6;              // rbp
inline constexpr int kDwarfSp = 7;              // rsp
inline constexpr int kDwarfReturnAddress = 16;  // the return address column
inline constexpr bool kSignedReturnAddresses = false;
// Where a call leaves its return address: just below the caller's stack pointer, i.e. at the
// callee's CFA - 8. Always, so the walker needs no rule for it.
inline constexpr bool kReturnAddressAtFixedOffset = true;
inline constexpr std::int32_t kReturnAddressFromCfa = -8;

// The registers of a frame: where it executes (a return address into it), its stack pointer
// and its frame pointer register.
struct CallerFrame {
  std::uintptr_t ip = 0;
  std::uintptr_t sp = 0;
  std::uintptr_t fp = 0;
};

// A hook's own frame address (__builtin_frame_address(0)): taking it makes GCC and Clang give
// the hook a standard frame (push rbp; mov rbp, rsp).
using EntryFrame = const void*;
#define DHAT_ENTRY_FRAME() static_cast<::dhat::core::EntryFrame>(__builtin_frame_address(0))
inline bool has_entry_frame(EntryFrame frame) noexcept { return frame != nullptr; }

// The caller of the function whose frame is `frame`: the return address is at frame + 8, the
// caller's rbp at frame, its rsp at frame + 16.
inline CallerFrame caller_frame_of(EntryFrame frame_address) noexcept {
  const auto* frame = static_cast<const std::uintptr_t*>(frame_address);
  return CallerFrame{frame[1], reinterpret_cast<std::uintptr_t>(frame) + 16, frame[0]};
}

inline std::uintptr_t strip_return_address(std::uintptr_t address) noexcept { return address; }

// ---- The time-stamp counter ----
inline std::uint64_t read_counter() noexcept { return __rdtsc(); }

// lfence waits until every earlier instruction has completed locally.
inline std::uint64_t counter_after_earlier() noexcept {
  _mm_lfence();
  return __rdtsc();
}

inline std::uint64_t counter_before_later() noexcept {
  const std::uint64_t tsc = __rdtsc();
  _mm_lfence();
  return tsc;
}

// CPUID's invariant-TSC bit: one rate in every P-, C- and T-state.
inline bool counter_is_invariant() noexcept {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0x80000000U, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007U) {
    return false;
  }
  __get_cpuid(0x80000007U, &eax, &ebx, &ecx, &edx);
  return (edx & (1U << 8)) != 0;
}

// Whether the kernel keeps time with the TSC (the clocksource file names "tsc"). Linux checks at
// boot that the counters of all CPUs agree and its watchdog switches away from the TSC if they
// drift: only then may stamps taken on different CPUs be compared. open/read, not stdio: this
// runs inside the malloc hooks' process and must not allocate.
inline bool counters_agree_across_cpus(
    const char* path = "/sys/devices/system/clocksource/clocksource0/current_clocksource") noexcept {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  char name[16] = {};
  const ssize_t got = read(fd, name, sizeof(name) - 1);
  close(fd);
  return got >= 3 && name[0] == 't' && name[1] == 's' && name[2] == 'c' && (got == 3 || name[3] == '\n');
}

// Whether two threads' events that depend on each other (a block freed by one and handed out
// again to the other) always get different readings: an invariant TSC ticks at the processor's
// nominal rate, more than 1 GHz, far finer than any such hand-off.
inline bool counter_orders_hand_offs() noexcept { return true; }

inline void prefetch_for_write(const void* address) noexcept {
  asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(address)));
}

// A spinning thread's pause: lets the other hyper-thread run and saves power.
inline void spin_pause() noexcept { __builtin_ia32_pause(); }

}  // namespace dhat::core
