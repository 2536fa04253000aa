// The profile's clock: microseconds since the profiler started (dhat-rs's unit: tu "µs").
//
// Contract: monotonic, never allocates, safe in any thread. CLOCK_MONOTONIC is a vDSO call
// (~20 ns here), cheap enough for once per allocation.
#pragma once

#include <cstdint>
#include <ctime>

namespace dhat::core {

inline std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000U + static_cast<std::uint64_t>(ts.tv_nsec);
}

class ProfileClock {
 public:
  void start() noexcept { start_ns_ = monotonic_ns(); }
  std::uint64_t now_us() const noexcept { return (monotonic_ns() - start_ns_) / 1000U; }

 private:
  std::uint64_t start_ns_ = 0;
};

}  // namespace dhat::core
