#include "core/live_table.hpp"

#include "core/internal_alloc.hpp"

namespace dhat::core {

namespace {

constexpr unsigned kPpBits = 24;
constexpr std::uint64_t kPpMask = (std::uint64_t{1} << kPpBits) - 1;
constexpr std::uint64_t kMaxSize = (std::uint64_t{1} << (64 - kPpBits)) - 1;

}  // namespace

LiveTable::~LiveTable() { internal_free(slots_); }

void LiveTable::clear() noexcept {
  internal_free(slots_);
  slots_ = nullptr;
  slot_count_ = 0;
  used_ = 0;
}

std::size_t LiveTable::home(std::uintptr_t address) const noexcept {
  // Blocks are 16-byte aligned: drop those bits, mix, then map onto [0, slot_count_) with a
  // multiply-shift, which needs no power-of-two size.
  const std::uint64_t mixed = (address >> 4) * 0x9E3779B97F4A7C15ULL;
  __extension__ using Wide = unsigned __int128;  // GCC and Clang on x86-64
  return static_cast<std::size_t>((static_cast<Wide>(mixed) * slot_count_) >> 64);
}

bool LiveTable::grow() noexcept {
  const std::size_t old_count = slot_count_;
  Slot* old_slots = slots_;
  const std::size_t new_count = old_count == 0 ? 4096 : old_count + old_count / 2;
  auto* fresh = static_cast<Slot*>(internal_malloc(new_count * sizeof(Slot)));
  if (fresh == nullptr) {
    return false;
  }
  for (std::size_t i = 0; i < new_count; ++i) {
    fresh[i].address = 0;
  }
  slots_ = fresh;
  slot_count_ = new_count;
  for (std::size_t i = 0; i < old_count; ++i) {
    if (old_slots[i].address == 0) {
      continue;
    }
    std::size_t j = home(old_slots[i].address);
    while (slots_[j].address != 0) {
      j = next(j);
    }
    slots_[j] = old_slots[i];
  }
  internal_free(old_slots);
  return true;
}

bool LiveTable::insert(std::uintptr_t address, const LiveBlock& block) noexcept {
  if (block.pp > kPpMask || block.size > kMaxSize) {
    return false;
  }
  // Load factor at most 3/4.
  if ((used_ + 1) * 4 > slot_count_ * 3 && !grow()) {
    return false;
  }
  const Slot filled{address, block.size << kPpBits | block.pp, block.birth_us};
  std::size_t i = home(address);
  while (slots_[i].address != 0) {
    if (slots_[i].address == address) {
      slots_[i] = filled;  // a block the profiler missed the free of: the newest wins
      return true;
    }
    i = next(i);
  }
  slots_[i] = filled;
  ++used_;
  return true;
}

bool LiveTable::remove(std::uintptr_t address, LiveBlock* removed) noexcept {
  if (used_ == 0) {
    return false;
  }
  std::size_t i = home(address);
  while (slots_[i].address != address) {
    if (slots_[i].address == 0) {
      return false;
    }
    i = next(i);
  }
  removed->size = slots_[i].size_and_pp >> kPpBits;
  removed->pp = static_cast<PpId>(slots_[i].size_and_pp & kPpMask);
  removed->birth_us = slots_[i].birth_us;
  // Backward-shift deletion: pull later members of the probe run into the hole so that every
  // remaining key stays reachable from its home slot without tombstones.
  std::size_t hole = i;
  std::size_t j = i;
  for (;;) {
    j = next(j);
    if (slots_[j].address == 0) {
      break;
    }
    const std::size_t want = home(slots_[j].address);
    // Move slot j into the hole if its home is not in (hole, j] cyclically.
    const bool home_between = hole <= j ? (want > hole && want <= j) : (want > hole || want <= j);
    if (!home_between) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole].address = 0;
  --used_;
  return true;
}

}  // namespace dhat::core
