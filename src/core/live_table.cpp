#include "core/live_table.hpp"

#include "core/internal_alloc.hpp"
#include "core/internal_pages.hpp"

namespace dhat::core {

namespace {

constexpr unsigned kPpBits = 24;
constexpr std::uint64_t kPpMask = (std::uint64_t{1} << kPpBits) - 1;
constexpr std::uint64_t kMaxSize = (std::uint64_t{1} << (64 - kPpBits)) - 1;

}  // namespace

// Small tables come from internal_malloc (so that ASan sees them in the unit tests), big ones
// from the kernel (huge pages, already zero).
LiveTable::Slot* LiveTable::allocate_slots(std::size_t count) noexcept {
  const std::size_t bytes = count * sizeof(Slot);
  if (bytes >= kHugeRegion) {
    return static_cast<Slot*>(map_zeroed_pages(bytes));
  }
  auto* slots = static_cast<Slot*>(internal_malloc(bytes));
  if (slots != nullptr) {
    for (std::size_t i = 0; i < count; ++i) {
      slots[i].address = 0;
    }
  }
  return slots;
}

void LiveTable::free_slots(Slot* slots, std::size_t count) noexcept {
  const std::size_t bytes = count * sizeof(Slot);
  if (bytes >= kHugeRegion) {
    unmap_pages(slots, bytes);
  } else {
    internal_free(slots);
  }
}

LiveTable::~LiveTable() { free_slots(slots_, slot_count_); }

void LiveTable::clear() noexcept {
  for (Slot& place : pending_) {
    place.address = 0;
  }
  pending_next_ = 0;
  pending_used_ = 0;
  lost_ = 0;
  free_slots(slots_, slot_count_);
  __atomic_store_n(&slots_, nullptr, __ATOMIC_RELAXED);
  __atomic_store_n(&slot_count_, 0, __ATOMIC_RELAXED);
  used_ = 0;
}

bool LiveTable::grow() noexcept {
  const std::size_t old_count = slot_count_;
  Slot* old_slots = slots_;
  const std::size_t new_count = old_count == 0 ? 4096 : old_count + old_count / 2;
  Slot* fresh = allocate_slots(new_count);
  if (fresh == nullptr) {
    return false;
  }
  __atomic_store_n(&slots_, fresh, __ATOMIC_RELAXED);
  __atomic_store_n(&slot_count_, new_count, __ATOMIC_RELAXED);
  // Each move is a random write into the new table: prefetch the home slot a few entries ahead
  // so that the misses overlap (rehashing three million blocks otherwise waits on each in turn).
  constexpr std::size_t kAhead = 16;
  for (std::size_t i = 0; i < old_count; ++i) {
    if (i + kAhead < old_count && old_slots[i + kAhead].address != 0) {
      __builtin_prefetch(&slots_[home(old_slots[i + kAhead].address)], 1);
    }
    if (old_slots[i].address == 0) {
      continue;
    }
    std::size_t j = home(old_slots[i].address);
    while (slots_[j].address != 0) {
      j = next(j);
    }
    slots_[j] = old_slots[i];
  }
  free_slots(old_slots, old_count);
  return true;
}

bool LiveTable::insert(std::uintptr_t address, const LiveBlock& block) noexcept {
  if (block.pp > kPpMask || block.size > kMaxSize) {
    return false;
  }
  const Slot filled{address, block.size << kPpBits | block.pp};
  for (Slot& place : pending_) {
    if (place.address == address) {
      place = filled;  // a block the profiler missed the free of: the newest wins
      return true;
    }
  }
  Slot& oldest = pending_[pending_next_];
  if (oldest.address != 0) {
    --pending_used_;
    if (!insert_now(oldest)) {
      ++lost_;
    }
  }
  oldest = filled;
  ++pending_used_;
  pending_next_ = pending_next_ + 1 == kPending ? 0 : pending_next_ + 1;
  if (slot_count_ != 0) {
    __builtin_prefetch(&slots_[home(address)], 1);
  }
  return true;
}

bool LiveTable::insert_now(const Slot& filled) noexcept {
  // Load factor at most 3/4.
  if ((used_ + 1) * 4 > slot_count_ * 3 && !grow()) {
    return false;
  }
  const std::uintptr_t address = filled.address;
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
  for (Slot& place : pending_) {
    if (place.address == address) {
      removed->size = place.size_and_pp >> kPpBits;
      removed->pp = static_cast<PpId>(place.size_and_pp & kPpMask);
      place.address = 0;
      --pending_used_;
      return true;
    }
  }
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
