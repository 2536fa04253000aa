#include "core/live_table.hpp"

#include <cstring>

#include "core/internal_alloc.hpp"
#include "core/internal_pages.hpp"

namespace dhat::core {

namespace {

constexpr unsigned kPpBits = 24;
constexpr std::uint64_t kPpMask = (std::uint64_t{1} << kPpBits) - 1;
constexpr std::uint64_t kMaxSize = (std::uint64_t{1} << (64 - kPpBits)) - 1;
constexpr std::uintptr_t kUnplaced = 1;  // in a slot's address during rehash_in_place
// Address space reserved for a big table: 4,000 million slots, three thousand million live
// blocks. Only what the table uses is ever committed; beyond this, a bigger one is reserved.
constexpr std::size_t kReservedBytes = std::size_t{64} << 30;

// A reservation is committed in steps of 2 MiB (a system call per step, not per growth).
constexpr std::size_t kCommitStep = std::size_t{2} << 20;
std::size_t round_up_to_commit_step(std::size_t bytes) { return (bytes + kCommitStep - 1) & ~(kCommitStep - 1); }

}  // namespace

// Small tables come from internal_malloc (so that ASan sees them in the unit tests), big ones
// from a reservation (already zero) or, if address space is short, a mapping.
void LiveTable::release(Slot* slots, std::size_t count, std::size_t reserved_bytes) noexcept {
  const std::size_t bytes = count * sizeof(Slot);
  if (reserved_bytes != 0) {
    unmap_pages(slots, reserved_bytes);
  } else if (bytes >= kHugeRegion) {
    unmap_pages(slots, bytes);
  } else {
    internal_free(slots);
  }
}

LiveTable::~LiveTable() { release(slots_, slot_count_, reserved_bytes_); }

void LiveTable::clear() noexcept {
  for (Slot& place : pending_) {
    place.address = 0;
  }
  pending_next_ = 0;
  pending_used_ = 0;
  release(slots_, slot_count_, reserved_bytes_);
  __atomic_store_n(&slots_, nullptr, __ATOMIC_RELAXED);
  __atomic_store_n(&slot_count_, 0, __ATOMIC_RELAXED);
  reserved_bytes_ = 0;
  committed_bytes_ = 0;
  used_ = 0;
}

bool LiveTable::grow() noexcept {
  const std::size_t old_count = slot_count_;
  if (!extend_slots(old_count == 0 ? 4096 : old_count + old_count / 2)) {
    return false;
  }
  rehash_in_place(old_count);
  return true;
}

// Makes the table `new_count` slots long, the first slot_count_ as they were, the rest empty.
bool LiveTable::extend_slots(std::size_t new_count) noexcept {
  const std::size_t new_bytes = new_count * sizeof(Slot);
  if (new_bytes <= reserved_bytes_) {
    const std::size_t commit_to = round_up_to_commit_step(new_bytes);
    if (commit_to > committed_bytes_) {
      if (!commit_pages(slots_, committed_bytes_, commit_to)) {
        return false;
      }
      committed_bytes_ = commit_to;
    }
    __atomic_store_n(&slot_count_, new_count, __ATOMIC_RELAXED);
    return true;
  }
  Slot* fresh = nullptr;
  std::size_t fresh_reserved = 0;
  std::size_t fresh_committed = 0;
  if (new_bytes >= kHugeRegion) {
    fresh_committed = round_up_to_commit_step(new_bytes);
    fresh_reserved = fresh_committed * 4 > kReservedBytes ? fresh_committed * 4 : kReservedBytes;
    fresh = static_cast<Slot*>(reserve_pages(fresh_reserved));
    if (fresh != nullptr && !commit_pages(fresh, 0, fresh_committed)) {
      unmap_pages(fresh, fresh_reserved);
      fresh = nullptr;
    }
    if (fresh == nullptr) {  // no address space to spare (a ulimit -v): a mapping of the size
      fresh_reserved = 0;
      fresh_committed = 0;
      fresh = static_cast<Slot*>(map_zeroed_pages(new_bytes));
    }
  } else {
    fresh = static_cast<Slot*>(internal_malloc(new_bytes));
    if (fresh != nullptr) {
      std::memset(static_cast<void*>(fresh + slot_count_), 0, (new_count - slot_count_) * sizeof(Slot));
    }
  }
  if (fresh == nullptr) {
    return false;
  }
  if (slot_count_ != 0) {
    std::memcpy(static_cast<void*>(fresh), slots_, slot_count_ * sizeof(Slot));
  }
  Slot* old_slots = slots_;
  const std::size_t old_count = slot_count_;
  const std::size_t old_reserved = reserved_bytes_;
  __atomic_store_n(&slots_, fresh, __ATOMIC_RELAXED);
  __atomic_store_n(&slot_count_, new_count, __ATOMIC_RELAXED);
  reserved_bytes_ = fresh_reserved;
  committed_bytes_ = fresh_committed;
  release(old_slots, old_count, old_reserved);
  return true;
}

// Moves every block of the first `old_count` slots to its home in the longer table. Blocks not
// yet moved carry kUnplaced; a probe passes only over placed blocks, so every placed block's
// probe run holds placed blocks only and stays intact while the others move (the scheme of
// rehashing in place with "deleted" marks). A home only ever moves up when the table grows (the
// multiply-shift in home_in scales it), so walking the old slots from the top down, almost every
// block lands above the slot it leaves, in a region already settled: one write and one clear,
// both close to where the previous block went.
void LiveTable::rehash_in_place(std::size_t old_count) noexcept {
  for (std::size_t i = 0; i < old_count; ++i) {
    if (slots_[i].address != 0) {
      slots_[i].address |= kUnplaced;
    }
  }
  for (std::size_t i = old_count; i-- > 0;) {
    while ((slots_[i].address & kUnplaced) != 0) {
      Slot moving = slots_[i];
      moving.address &= ~kUnplaced;
      std::size_t j = home(moving.address);
      while (j != i && slots_[j].address != 0 && (slots_[j].address & kUnplaced) == 0) {
        j = next(j);
      }
      if (j == i) {
        slots_[i] = moving;
        break;
      }
      // Slot j was empty (slot i becomes empty: the loop ends) or held a block still to move,
      // which takes slot i's place and is moved next.
      slots_[i] = slots_[j];
      slots_[j] = moving;
    }
  }
}

bool LiveTable::insert(std::uintptr_t address, const LiveBlock& block) noexcept {
  if (block.pp > kPpMask || block.size > kMaxSize || (address & kUnplaced) != 0) {
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
    if (!insert_now(oldest)) {
      return false;  // no memory to grow: the oldest keeps its place, this block is refused
    }
    --pending_used_;
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
