#include "core/timeline.hpp"

namespace dhat::core {

void Timeline::clear(Gaps gaps) noexcept {
  gaps_ = gaps;
  shift_ = 0;
  used_ = 0;
}

void Timeline::halve() noexcept {
  const std::size_t merged = (used_ + 1) / 2;
  for (std::size_t i = 0; i < merged; ++i) {
    const std::size_t a = 2 * i, b = 2 * i + 1;
    const bool has_b = b < used_;
    max_[i] = has_b && max_[b] > max_[a] ? max_[b] : max_[a];
    // With Gaps::zero, a bucket without a reading (0) has no end of its own.
    end_[i] = has_b && (gaps_ == Gaps::hold || max_[b] != 0) ? end_[b] : end_[a];
  }
  used_ = merged;
  ++shift_;
}

std::size_t Timeline::open_bucket_for(std::uint64_t now_us) noexcept {
  while ((now_us >> shift_) >= kBuckets) {
    halve();
  }
  const auto bucket = static_cast<std::size_t>(now_us >> shift_);
  // Buckets nothing happened in keep the level the heap had when they began (or 0: no reading).
  const std::uint64_t level = used_ == 0 || gaps_ == Gaps::zero ? 0 : end_[used_ - 1];
  while (used_ <= bucket) {
    max_[used_] = level;
    end_[used_] = level;
    ++used_;
  }
  return bucket;
}

void Timeline::record(std::uint64_t now_us, std::uint64_t live_bytes) noexcept {
  auto bucket = static_cast<std::size_t>(now_us >> shift_);
  if (__builtin_expect(bucket >= used_, 0)) {  // a bucket not yet started (it may need halving)
    bucket = open_bucket_for(now_us);
  }
  if (live_bytes > max_[bucket]) {
    max_[bucket] = live_bytes;
  }
  end_[bucket] = live_bytes;
}

}  // namespace dhat::core
