// dhat::Section: the allocations between two points, for this thread and for the process.
#include "core/recorder.hpp"
#include "core/section_counters.hpp"
#include "dhat/dhat.hpp"
#include "runtime/run_control.hpp"

namespace dhat {

Section::Section() noexcept {
  if (!core::is_recording()) {
    if (core::is_ad_hoc_run() || !runtime::acquire_private_run()) {
      return;  // an ad hoc run records no heap: nothing to measure
    }
    owns_private_run_ = true;
  }
  process_start_ = HeapStats::get();
  std::uint64_t live_now = 0;
  watermark_ = core::open_watermark(&live_now);
  process_start_.curr_bytes = live_now;
  const core::ThreadHeapCounters t = core::this_thread_counters();
  thread_blocks_ = t.blocks;
  thread_bytes_ = t.bytes;
  thread_live_ = t.live_bytes;
  thread_saved_peak_ = t.peak_live_bytes;
  core::set_this_thread_peak(t.live_bytes);  // this section's own high-water mark starts here
  measuring_ = true;
}

Section::~Section() { stop(); }

void Section::stop() noexcept {
  if (!measuring_ || stopped_) {
    return;
  }
  process_end_ = measure_process();
  thread_end_ = measure_thread();
  stopped_ = true;
  core::close_watermark(watermark_);
  // An enclosing section on this thread must still see the peak reached inside this one.
  if (thread_saved_peak_ > core::this_thread_counters().peak_live_bytes) {
    core::set_this_thread_peak(thread_saved_peak_);
  }
  if (owns_private_run_) {
    runtime::release_private_run();
  }
}

SectionStats Section::process() const noexcept { return stopped_ ? process_end_ : measure_process(); }
SectionStats Section::thread() const noexcept { return stopped_ ? thread_end_ : measure_thread(); }

SectionStats Section::measure_process() const noexcept {
  SectionStats stats;
  if (!measuring_) {
    return stats;
  }
  const HeapStats now = HeapStats::get();
  stats.blocks = now.total_blocks - process_start_.total_blocks;
  stats.bytes = now.total_bytes - process_start_.total_bytes;
  const std::uint64_t peak = core::watermark_peak(watermark_);
  stats.peak_live_bytes = peak > process_start_.curr_bytes ? peak - process_start_.curr_bytes : 0;
  stats.live_bytes_change =
      static_cast<std::int64_t>(now.curr_bytes) - static_cast<std::int64_t>(process_start_.curr_bytes);
  return stats;
}

SectionStats Section::measure_thread() const noexcept {
  SectionStats stats;
  if (!measuring_) {
    return stats;
  }
  const core::ThreadHeapCounters t = core::this_thread_counters();
  stats.blocks = t.blocks - thread_blocks_;
  stats.bytes = t.bytes - thread_bytes_;
  stats.peak_live_bytes =
      t.peak_live_bytes > thread_live_ ? static_cast<std::uint64_t>(t.peak_live_bytes - thread_live_) : 0;
  stats.live_bytes_change = t.live_bytes - thread_live_;
  return stats;
}

}  // namespace dhat
