// The heap's size over the run, in bounded memory: a fixed number of time buckets, each with the
// most live bytes seen in it and the live bytes at its end. When the run outgrows the buckets,
// their width doubles and neighbours merge, so a run of any length keeps the same shape of data.
// A bucket nothing was recorded in holds the level before it (the heap did not change), or, for
// a quantity that is only sampled (RSS: Gaps::zero), 0: "no reading here", so that a reader can
// join the readings instead of drawing a level nobody saw.
//
// Contract: not thread-safe (the recorder serializes calls); no allocation (a fixed array).
#pragma once

#include <cstddef>
#include <cstdint>

namespace dhat::core {

class Timeline {
 public:
  static constexpr std::size_t kBuckets = 512;
  enum class Gaps { hold, zero };

  void clear(Gaps gaps = Gaps::hold) noexcept;
  // The live bytes became `live_bytes` at `now_us` (times never go backwards).
  void record(std::uint64_t now_us, std::uint64_t live_bytes) noexcept;

  // Starts loading what recording at `now_us` writes (see LiveTable::prefetch_own_fields).
  void prefetch_for(std::uint64_t now_us) const noexcept {
    __builtin_prefetch(&shift_, 1);
    const std::size_t bucket = static_cast<std::size_t>(now_us >> shift_);
    if (bucket < kBuckets) {
      __builtin_prefetch(&max_[bucket], 1);
      __builtin_prefetch(&end_[bucket], 1);
    }
  }

  std::uint64_t bucket_us() const noexcept { return std::uint64_t{1} << shift_; }
  std::size_t used() const noexcept { return used_; }
  std::uint64_t max_bytes(std::size_t bucket) const noexcept { return max_[bucket]; }
  std::uint64_t end_bytes(std::size_t bucket) const noexcept { return end_[bucket]; }

 private:
  void halve() noexcept;
  // Starts the bucket `now_us` falls in (halving first if the run outgrew them) and every one
  // before it; its index. Once per bucket: kept out of record's common path.
  __attribute__((noinline)) std::size_t open_bucket_for(std::uint64_t now_us) noexcept;

  unsigned shift_ = 0;  // bucket width = 2^shift_ µs
  Gaps gaps_ = Gaps::hold;
  std::size_t used_ = 0;  // buckets [0, used_) hold data
  std::uint64_t max_[kBuckets] = {};
  std::uint64_t end_[kBuckets] = {};
};

}  // namespace dhat::core
