// The process's resident memory (RSS) over the run, beside the heap timeline, and its peak.
//
// Contract: not thread-safe (the recorder calls it with its lock held, or from the process's one
// thread); never allocates; every read is open/read/close of /proc/self/statm (async-signal-safe,
// no descriptor kept between reads). Reads happen only when `due`: at most one per bucket of its
// own timeline and one per millisecond, so a run of any length makes a bounded number of them
// (512 buckets, then about 256 more each time the run doubles in length).
//
// Why read on heap events and not on a thread of our own (as heaptrack and memray do): the first
// thread a process creates makes glibc's malloc and the recorder leave their single-threaded
// paths for good, which would change the program's allocator behaviour and the profiler's speed.
// So RSS is read as the heap changes: memory a program touches while it makes no heap event
// shows at its next one (and at the end of the run).
#pragma once

#include <cstdint>
#include <limits>

#include "core/timeline.hpp"

namespace dhat::core {

class RssTimeline {
 public:
  static constexpr std::uint64_t kMinIntervalUs = 1000;

  // Starts recording at `now_us` (takes the first reading) or, with `enabled` false, keeps nothing.
  void start(std::uint64_t now_us, bool enabled) noexcept;
  // Whether a heap event at `event_us` should take a reading (one compare: on the hot path).
  bool due(std::uint64_t event_us) const noexcept { return event_us >= next_us_; }
  // Takes a reading at `now_us` (times never go backwards: an earlier one counts as the latest).
  void sample(std::uint64_t now_us) noexcept;
  // The last reading, at t-end, and the peak from the kernel's high-water mark. No reading after.
  void finish(std::uint64_t now_us) noexcept;

  // False when nothing was read (disabled, or /proc not mounted).
  bool available() const noexcept { return available_; }
  const Timeline& levels() const noexcept { return levels_; }
  // The run's peak RSS: the kernel's high-water mark (getrusage's ru_maxrss) at the end when it
  // rose during the run, else the highest reading (the mark is the process's: an earlier run in
  // the same process may have set it).
  std::uint64_t peak_bytes() const noexcept { return peak_bytes_; }
  std::uint64_t readings() const noexcept { return readings_; }

 private:
  static constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();

  std::uint64_t next_us_ = kNever;  // first: `due` reads it on every heap event
  std::uint64_t peak_at_start_ = 0;
  Timeline levels_;
  std::uint64_t last_us_ = 0;
  std::uint64_t peak_bytes_ = 0;
  std::uint64_t readings_ = 0;
  bool available_ = false;
};

// The resident bytes of this process now (/proc/self/statm), or 0 if it cannot be read.
[[nodiscard]] std::uint64_t read_resident_bytes() noexcept;
// The process's peak resident bytes so far (getrusage's ru_maxrss), or 0.
[[nodiscard]] std::uint64_t read_peak_resident_bytes() noexcept;

}  // namespace dhat::core
