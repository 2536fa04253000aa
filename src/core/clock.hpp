// The profile's clock: microseconds since the profiler started (dhat-rs's unit: tu "µs").
//
// Contract: monotonic, never allocates, no syscalls on the fast path. Not thread-safe: the
// recorder reads it with its lock held (calibration updates the conversion).
//
// Why not clock_gettime per event: it costs ~24 ns here even through the vDSO, twice per
// allocation/free pair, which was a quarter of the profiler's time on a tight new/delete loop.
// The CPU's invariant cycle counter (x86-64's time-stamp counter, AArch64's generic timer; "TSC"
// below for both, core/arch.hpp) costs ~10 ns. Its rate is measured against CLOCK_MONOTONIC over
// the run's first 10 ms (clock_gettime until then), and again at 1 s; each recalibration starts
// from the current reading, so time never jumps back. Without an invariant counter (x86-64's
// cpuid says so) every reading is clock_gettime.
#pragma once

#include <cstdint>
#include <ctime>

#include "core/arch.hpp"  // the cycle counter

namespace dhat::core {

inline std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000U + static_cast<std::uint64_t>(ts.tv_nsec);
}

class ProfileClock {
 public:
  void start() noexcept {
    use_tsc_ = counter_is_invariant();
    start_ns_ = monotonic_ns();
    start_tsc_ = read_counter();
    anchor_tsc_ = start_tsc_;
    anchor_ns_ = start_ns_;
    calibrations_ = 0;
    ns_per_tick_q32_ = 0;
    fast_ticks_ = 0;  // no rate yet: every reading takes the slow path
  }

  // Microseconds since start. Once calibrated, straight from the TSC with one multiplication:
  // going through nanoseconds, a calibration check and a division by 1000 per event was 8% of a
  // profiled new/delete loop.
  std::uint64_t now_us() noexcept {
    const std::uint64_t since_anchor = read_counter() - anchor_tsc_;
    if (since_anchor < fast_ticks_) {
      return extrapolated_us(since_anchor);
    }
    return (now_ns() - start_ns_) / 1000U;
  }

  // Whether readings are extrapolated from the TSC (threads may then stamp events themselves
  // with read_counter() and have them converted later by us_at_tsc).
  bool uses_counter() const noexcept { return use_tsc_; }

  // A now_ns() reading in microseconds since start.
  std::uint64_t us_since_start(std::uint64_t ns) const noexcept {
    return ns > start_ns_ ? (ns - start_ns_) / 1000U : 0;
  }

  // The time, in microseconds since start, of an earlier TSC reading `tsc`, given `now_ns`, a
  // now_ns() taken after it (which also keeps the calibration going), and `now_us`, the same in
  // microseconds (us_since_start: one division for a whole batch of events). Before the first
  // calibration (the run's first 10 ms) there is no rate yet and `now_ns` stands in.
  std::uint64_t us_at_tsc(std::uint64_t tsc, std::uint64_t now_ns, std::uint64_t now_us) const noexcept {
    if (ns_per_tick_q32_ == 0) {
      return now_us;
    }
    if (tsc >= anchor_tsc_) {
      // The same formula as now_us(), so that both give one time for one reading.
      const std::uint64_t us = extrapolated_us(tsc - anchor_tsc_);
      return us < now_us ? us : now_us;
    }
    __extension__ using Wide = unsigned __int128;
    const auto back = static_cast<std::uint64_t>((static_cast<Wide>(anchor_tsc_ - tsc) * ns_per_tick_q32_) >> 32);
    const std::uint64_t ns = back < anchor_ns_ ? anchor_ns_ - back : 0;
    return us_since_start(ns < now_ns ? ns : now_ns);
  }

  // Nanoseconds on the CLOCK_MONOTONIC scale (extrapolated from the TSC once calibrated).
  std::uint64_t now_ns() noexcept {
    if (ns_per_tick_q32_ != 0) {
      const std::uint64_t ns = extrapolated_ns(read_counter());
      if (calibrations_ >= 2 || ns - anchor_ns_ < kRecalibrateAfterNs) {
        return ns;
      }
    }
    return slow_now_ns();
  }

 private:
  static constexpr std::uint64_t kFirstCalibrationNs = 10'000'000;  // 10 ms
  static constexpr std::uint64_t kRecalibrateAfterNs = 1'000'000'000;

  // Microseconds since start of a reading `since_anchor` ticks after the anchor: the anchor's
  // time (whole and fractional microseconds) plus the ticks at the calibrated rate.
  std::uint64_t extrapolated_us(std::uint64_t since_anchor) const noexcept {
    __extension__ using Wide = unsigned __int128;
    const Wide fraction = static_cast<Wide>(since_anchor) * us_per_tick_q64_ + anchor_us_fraction_q64_;
    return anchor_us_ + static_cast<std::uint64_t>(fraction >> 64);
  }

  std::uint64_t extrapolated_ns(std::uint64_t tsc) const noexcept {
    __extension__ using Wide = unsigned __int128;  // GCC and Clang on 64-bit targets
    return anchor_ns_ + static_cast<std::uint64_t>((static_cast<Wide>(tsc - anchor_tsc_) * ns_per_tick_q32_) >> 32);
  }

  // clock_gettime, and (re)calibration of the TSC's rate over the whole run so far.
  std::uint64_t slow_now_ns() noexcept {
    std::uint64_t ns = monotonic_ns();
    if (!use_tsc_) {
      return ns < last_slow_ns_ ? last_slow_ns_ : (last_slow_ns_ = ns);
    }
    const std::uint64_t tsc = read_counter();
    if (ns_per_tick_q32_ != 0) {
      // Never before a reading already handed out, by now_ns() or by now_us().
      const std::uint64_t extrapolated = extrapolated_ns(tsc);
      ns = ns < extrapolated ? extrapolated : ns;
      if (tsc >= anchor_tsc_) {
        const std::uint64_t handed_out_ns = start_ns_ + extrapolated_us(tsc - anchor_tsc_) * 1000U;
        ns = ns < handed_out_ns ? handed_out_ns : ns;
      }
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
      fast_ticks_ = 0;
      return ns;
    }
    ns_per_tick_q32_ = rate;
    ++calibrations_;
    anchor_tsc_ = tsc;  // later readings continue from this one
    anchor_ns_ = ns;
    // The same rate for now_us(): microseconds per tick in 0.64 fixed point (a tick is far
    // shorter than a microsecond), the anchor's time split into whole microseconds and a
    // fraction. Readings take this path until the next calibration is due (never, after it).
    const std::uint64_t anchor_since_start_ns = ns - start_ns_;
    const Wide us_per_tick = ((static_cast<Wide>(span_ns) << 64) / 1000U) / span_ticks;
    us_per_tick_q64_ = static_cast<std::uint64_t>(us_per_tick);
    anchor_us_ = anchor_since_start_ns / 1000U;
    anchor_us_fraction_q64_ =
        static_cast<std::uint64_t>((static_cast<Wide>(anchor_since_start_ns % 1000U) << 64) / 1000U);
    if (us_per_tick >> 64 != 0) {
      fast_ticks_ = 0;  // a counter slower than 1 MHz: not worth a fast path
    } else if (calibrations_ >= 2) {
      fast_ticks_ = ~std::uint64_t{0};
    } else {
      fast_ticks_ = static_cast<std::uint64_t>((static_cast<Wide>(kRecalibrateAfterNs) << 32) / rate);
    }
    return ns;
  }

  bool use_tsc_ = false;
  int calibrations_ = 0;
  std::uint64_t start_ns_ = 0;
  std::uint64_t start_tsc_ = 0;
  std::uint64_t anchor_tsc_ = 0;
  std::uint64_t anchor_ns_ = 0;
  std::uint64_t ns_per_tick_q32_ = 0;         // nanoseconds per tick, 32.32 fixed point
  std::uint64_t us_per_tick_q64_ = 0;         // the same rate in microseconds per tick, 0.64 fixed point
  std::uint64_t anchor_us_ = 0;               // the anchor's time since start: whole microseconds,
  std::uint64_t anchor_us_fraction_q64_ = 0;  // and the fraction of one
  std::uint64_t fast_ticks_ = 0;              // readings this many ticks past the anchor need no slow path
  std::uint64_t last_slow_ns_ = 0;
};

}  // namespace dhat::core
