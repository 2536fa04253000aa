#include "core/heap_model.hpp"

namespace dhat::core {

bool HeapModel::grow_to(PpId pp) noexcept {
  while (pps_.size() <= pp) {
    if (!pps_.push_back(PpCounters{})) {
      return false;
    }
  }
  return true;
}

void HeapModel::clear() noexcept {
  pps_.clear();
  global_ = GlobalCounters{};
  seq_ = 0;
  peak_seq_ = 0;
}

void HeapModel::before_change(PpCounters& pp) noexcept {
  ++seq_;
  if (pp.last_change_seq <= peak_seq_) {
    pp.gmax_bytes = pp.curr_bytes;
    pp.gmax_blocks = pp.curr_blocks;
  }
  pp.last_change_seq = seq_;
}

void HeapModel::after_increase(PpCounters& pp, std::uint64_t now_us) noexcept {
  if (pp.curr_bytes > pp.max_bytes) {
    pp.max_bytes = pp.curr_bytes;
    pp.max_blocks = pp.curr_blocks;
  }
  if (global_.curr_bytes >= global_.max_bytes) {
    global_.max_bytes = global_.curr_bytes;
    global_.max_blocks = global_.curr_blocks;
    global_.tgmax_us = now_us;
    peak_seq_ = seq_;
  }
}

void HeapModel::on_alloc(PpId id, std::uint64_t bytes, std::uint64_t now_us) noexcept {
  PpCounters& pp = pps_[id];
  before_change(pp);
  pp.total_bytes += bytes;
  pp.total_blocks += 1;
  pp.curr_bytes += bytes;
  pp.curr_blocks += 1;
  pp.lifetime_partial_us -= now_us;
  global_.total_bytes += bytes;
  global_.total_blocks += 1;
  global_.curr_bytes += bytes;
  global_.curr_blocks += 1;
  after_increase(pp, now_us);
}

void HeapModel::on_free(PpId id, std::uint64_t bytes, std::uint64_t now_us, bool temporary) noexcept {
  PpCounters& pp = pps_[id];
  before_change(pp);
  pp.temporary_blocks += temporary ? 1 : 0;
  pp.curr_bytes -= bytes;
  pp.curr_blocks -= 1;
  pp.lifetime_partial_us += now_us;
  global_.curr_bytes -= bytes;
  global_.curr_blocks -= 1;
}

void HeapModel::on_realloc(PpId id, std::uint64_t old_bytes, std::uint64_t new_bytes, std::uint64_t now_us) noexcept {
  PpCounters& pp = pps_[id];
  before_change(pp);
  pp.total_bytes += new_bytes;
  pp.total_blocks += 1;
  pp.curr_bytes = pp.curr_bytes - old_bytes + new_bytes;
  global_.total_bytes += new_bytes;
  global_.total_blocks += 1;
  global_.curr_bytes = global_.curr_bytes - old_bytes + new_bytes;
  if (new_bytes >= old_bytes) {
    // Growth (or a same-size move) can set a new peak; shrinking only lowers the heap.
    after_increase(pp, now_us);
  }
}

void HeapModel::on_ad_hoc_event(PpId id, std::uint64_t weight) noexcept {
  PpCounters& pp = pps_[id];
  pp.total_bytes += weight;
  pp.total_blocks += 1;
  global_.total_bytes += weight;
  global_.total_blocks += 1;
}

PpCounters HeapModel::counters_at(PpId id, std::uint64_t now_us) const noexcept {
  PpCounters pp = pps_[id];
  if (pp.last_change_seq <= peak_seq_) {
    pp.gmax_bytes = pp.curr_bytes;
    pp.gmax_blocks = pp.curr_blocks;
  }
  pp.total_lifetime_us = pp.lifetime_partial_us + pp.curr_blocks * now_us;
  return pp;
}

void HeapModel::finish(std::uint64_t now_us) noexcept {
  global_.tend_us = now_us;
  for (std::size_t i = 0; i < pps_.size(); ++i) {
    pps_[i] = counters_at(static_cast<PpId>(i), now_us);
  }
}

}  // namespace dhat::core
