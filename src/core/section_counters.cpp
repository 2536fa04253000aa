#include "core/section_counters.hpp"

#include "core/handler_events.hpp"
#include "core/recorder_state.hpp"
#include "core/thread_merge.hpp"

namespace dhat::core {

ThreadHeapCounters this_thread_counters() noexcept {
  if (t_holds_lock) {
    return t_state.counters;
  }
  const ReplayHeldEventsOnReturn replay_after;
  RecorderLock s;
  apply_waiting_events(s);
  return own_state(s).counters;
}

void set_this_thread_peak(std::int64_t peak_live_bytes) noexcept {
  if (t_holds_lock) {
    t_state.counters.peak_live_bytes = peak_live_bytes;
    return;
  }
  const ReplayHeldEventsOnReturn replay_after;
  RecorderLock s;
  apply_waiting_events(s);  // this thread's earlier events come before the change
  own_state(s).counters.peak_live_bytes = peak_live_bytes;
}

int open_watermark(std::uint64_t* live_bytes_now) noexcept {
  *live_bytes_now = 0;
  if (t_holds_lock) {
    return -1;
  }
  const ReplayHeldEventsOnReturn replay_after;
  RecorderLock s;
  apply_waiting_events(s);
  *live_bytes_now = s->model.global().curr_bytes;
  for (int i = 0; i < kWatermarkSlots; ++i) {
    if (!s->watermark_open[i]) {
      s->watermark_open[i] = true;
      s->watermark_max[i] = s->model.global().curr_bytes;
      ++s->open_watermarks;
      return i;
    }
  }
  return -1;
}

std::uint64_t watermark_peak(int slot) noexcept {
  if (slot < 0 || slot >= kWatermarkSlots || t_holds_lock) {
    return 0;
  }
  const ReplayHeldEventsOnReturn replay_after;
  RecorderLock s;
  apply_waiting_events(s);
  return s->watermark_max[slot];
}

void close_watermark(int slot) noexcept {
  if (slot < 0 || slot >= kWatermarkSlots || t_holds_lock) {
    return;
  }
  const ReplayHeldEventsOnReturn replay_after;
  RecorderLock s;
  apply_waiting_events(s);
  if (s->watermark_open[slot]) {
    s->watermark_open[slot] = false;
    --s->open_watermarks;
  }
}

}  // namespace dhat::core
