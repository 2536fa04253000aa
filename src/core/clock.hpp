// The profile's clock: microseconds since the profiler started (dhat-rs's unit: tu "µs").
//
// Contract: monotonic, never allocates, no syscalls on the fast path. Not thread-safe: the
// recorder reads it with its lock held (calibration updates the conversion).
//
// Why not clock_gettime per event: it costs ~24 ns here even through the vDSO, twice per
// allocation/free pair, which was a quarter of the profiler's time on a tight new/delete loop.
// The CPU's invariant time-stamp counter costs ~10 ns. Its rate is measured against
// CLOCK_MONOTONIC over the run's first 10 ms (clock_gettime until then), and again at 1 s; each
// recalibration starts from the current reading, so time never jumps back. Without an invariant
// TSC (cpuid says so) every reading is clock_gettime.
#pragma once

#include <cpuid.h>
#include <fcntl.h>
#include <unistd.h>
#include <x86intrin.h>

#include <cstdint>
#include <ctime>

namespace dhat::core {

inline std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000U + static_cast<std::uint64_t>(ts.tv_nsec);
}

// Whether the kernel keeps time with the TSC (the clocksource file names "tsc"). Linux checks at
// boot that the counters of all CPUs agree and its watchdog switches away from the TSC if they
// drift: only then may stamps taken on different CPUs be compared. open/read, not stdio: this
// runs inside the malloc hooks' process and must not allocate.
inline bool kernel_clock_is_tsc(
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

inline bool has_invariant_tsc() noexcept {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0x80000000U, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007U) {
    return false;
  }
  __get_cpuid(0x80000007U, &eax, &ebx, &ecx, &edx);
  return (edx & (1U << 8)) != 0;
}

class ProfileClock {
 public:
  void start() noexcept {
    use_tsc_ = has_invariant_tsc();
    start_ns_ = monotonic_ns();
    start_tsc_ = __rdtsc();
    anchor_tsc_ = start_tsc_;
    anchor_ns_ = start_ns_;
    calibrations_ = 0;
    ns_per_tick_q32_ = 0;
  }

  std::uint64_t now_us() noexcept { return (now_ns() - start_ns_) / 1000U; }

  // Whether readings are extrapolated from the TSC (threads may then stamp events themselves
  // with __rdtsc() and have them converted later by us_at_tsc).
  bool uses_tsc() const noexcept { return use_tsc_; }

  // The time, in microseconds since start, of an earlier TSC reading `tsc`, given `now_ns`, a
  // now_ns() taken after it (which also keeps the calibration going). Before the first
  // calibration (the run's first 10 ms) there is no rate yet and `now_ns` stands in.
  std::uint64_t us_at_tsc(std::uint64_t tsc, std::uint64_t now_ns) const noexcept {
    std::uint64_t ns = now_ns;
    if (ns_per_tick_q32_ != 0) {
      __extension__ using Wide = unsigned __int128;
      if (tsc >= anchor_tsc_) {
        ns = extrapolated_ns(tsc);
      } else {
        const auto back = static_cast<std::uint64_t>((static_cast<Wide>(anchor_tsc_ - tsc) * ns_per_tick_q32_) >> 32);
        ns = back < anchor_ns_ ? anchor_ns_ - back : 0;
      }
      ns = ns > now_ns ? now_ns : ns;
    }
    return ns > start_ns_ ? (ns - start_ns_) / 1000U : 0;
  }

  // Nanoseconds on the CLOCK_MONOTONIC scale (extrapolated from the TSC once calibrated).
  std::uint64_t now_ns() noexcept {
    if (ns_per_tick_q32_ != 0) {
      const std::uint64_t ns = extrapolated_ns(__rdtsc());
      if (calibrations_ >= 2 || ns - anchor_ns_ < kRecalibrateAfterNs) {
        return ns;
      }
    }
    return slow_now_ns();
  }

 private:
  static constexpr std::uint64_t kFirstCalibrationNs = 10'000'000;  // 10 ms
  static constexpr std::uint64_t kRecalibrateAfterNs = 1'000'000'000;

  std::uint64_t extrapolated_ns(std::uint64_t tsc) const noexcept {
    __extension__ using Wide = unsigned __int128;  // GCC and Clang on x86-64
    return anchor_ns_ + static_cast<std::uint64_t>((static_cast<Wide>(tsc - anchor_tsc_) * ns_per_tick_q32_) >> 32);
  }

  // clock_gettime, and (re)calibration of the TSC's rate over the whole run so far.
  std::uint64_t slow_now_ns() noexcept {
    std::uint64_t ns = monotonic_ns();
    if (!use_tsc_) {
      return ns < last_slow_ns_ ? last_slow_ns_ : (last_slow_ns_ = ns);
    }
    const std::uint64_t tsc = __rdtsc();
    if (ns_per_tick_q32_ != 0) {
      const std::uint64_t extrapolated = extrapolated_ns(tsc);
      ns = ns < extrapolated ? extrapolated : ns;  // never before a reading already handed out
    }
    ns = ns < last_slow_ns_ ? last_slow_ns_ : ns;
    last_slow_ns_ = ns;
    const std::uint64_t span_ns = ns - start_ns_;
    const std::uint64_t span_ticks = tsc - start_tsc_;
    if (span_ns < kFirstCalibrationNs || span_ticks == 0) {
      return ns;
    }
    __extension__ using Wide = unsigned __int128;
    const auto rate = static_cast<std::uint64_t>((static_cast<Wide>(span_ns) << 32) / span_ticks);
    if (rate == 0) {
      use_tsc_ = false;  // a rate below 2^-32 ns per tick: not a real counter
      return ns;
    }
    ns_per_tick_q32_ = rate;
    ++calibrations_;
    anchor_tsc_ = tsc;  // later readings continue from this one
    anchor_ns_ = ns;
    return ns;
  }

  bool use_tsc_ = false;
  int calibrations_ = 0;
  std::uint64_t start_ns_ = 0;
  std::uint64_t start_tsc_ = 0;
  std::uint64_t anchor_tsc_ = 0;
  std::uint64_t anchor_ns_ = 0;
  std::uint64_t ns_per_tick_q32_ = 0;  // nanoseconds per tick, 32.32 fixed point
  std::uint64_t last_slow_ns_ = 0;
};

}  // namespace dhat::core
