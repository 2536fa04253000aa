// What dhat::Section reads: this thread's allocation counters, and process-wide high-water marks
// of live bytes.
//
// Contract: every function is safe from any thread, never allocates through the hooks, and
// applies this thread's (and everyone's) waiting events first, so the numbers are exact at the
// call. Zero-cost while nothing records.
#pragma once

#include <cstdint>

namespace dhat::core {

// What a thread allocated and freed while heap runs recorded.
struct ThreadHeapCounters {
  std::uint64_t blocks = 0;          // blocks allocated (realloc counts, as in the totals)
  std::uint64_t bytes = 0;           // bytes allocated
  std::int64_t live_bytes = 0;       // allocated minus freed by this thread (may go negative)
  std::int64_t peak_live_bytes = 0;  // high-water mark of live_bytes; sections reset it
};

// This thread's counters up to now.
ThreadHeapCounters this_thread_counters() noexcept;
// Sets this thread's high-water mark of live bytes (sections restart and restore it).
void set_this_thread_peak(std::int64_t peak_live_bytes) noexcept;

// Process-wide high-water marks of live bytes for scoped sections: open one, read its maximum of
// the global live bytes since it opened (it reports the live bytes at opening through
// `live_bytes_now`), close it. -1 when all slots are in use.
[[nodiscard]] int open_watermark(std::uint64_t* live_bytes_now) noexcept;
std::uint64_t watermark_peak(int slot) noexcept;
void close_watermark(int slot) noexcept;

}  // namespace dhat::core
