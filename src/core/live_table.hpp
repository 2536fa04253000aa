// The set of live (allocated, not yet freed) blocks: address -> program point and size.
//
// Contract: not thread-safe (the recorder serializes calls); memory from internal_alloc; an
// insert that cannot get memory (or whose program point or size does not fit a slot: more than
// 16 million program points, a block of 1 TiB) returns false, the table unchanged, and the
// caller decides what the block becomes (the recorder counts it as dropped).
// Open addressing with linear probing and backward-shift deletion (no tombstones). Memory is the
// profiler's largest cost, so a slot is 16 bytes (size and program point share a word; no birth
// time, see heap_model.hpp), four to a cache line, and the table grows by half, not double:
// about 21-32 bytes per live block. Neighbouring blocks hash to the same cache line (see
// home_in). Addresses must be even (malloc's are 16-byte aligned); an odd one is refused.
//
// Growth is in place: a big table lives at the start of a reservation of address space and
// grows by committing more of it, then moving each block to its new home within the same slots.
// Copying into a fresh table instead touched three times the final table's memory over a run,
// and every fresh page is zeroed by the kernel (on a VM, first backed by the host too): on the
// json benchmark (3.2 million live blocks) that zeroing was 15% of the profiled run.
//
// Inserts are deferred: a new block waits in a small FIFO of recent inserts (its home slot being
// prefetched) and enters the table kPending inserts later, when that cache line has arrived. A
// remove looks in the FIFO first, so a short-lived block never touches the big table at all.
// In a heap of millions of blocks each table access is a cache miss, which this hides or avoids.
// When the oldest waiting block cannot enter the table (no memory to grow it), it keeps its
// place and the new insert is the one refused: a block once accepted is never lost.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/stack_table.hpp"

namespace dhat::core {

struct LiveBlock {
  std::uint64_t size;
  PpId pp;
};

class LiveTable {
 public:
  LiveTable() = default;
  LiveTable(const LiveTable&) = delete;
  LiveTable& operator=(const LiveTable&) = delete;
  ~LiveTable();

  [[nodiscard]] bool insert(std::uintptr_t address, const LiveBlock& block) noexcept;
  // Removes `address`; false if it is not a live block the profiler knows.
  [[nodiscard]] bool remove(std::uintptr_t address, LiveBlock* removed) noexcept;
  std::size_t size() const noexcept { return used_ + pending_used_; }
  // Whether the table has outgrown a core's cache (2 MiB and more): most lookups then miss.
  bool outgrew_cache() const noexcept { return slot_count_ >= (std::size_t{2} << 20) / sizeof(Slot); }
  // A hint that `address` is about to be inserted or removed: starts loading its home slot
  // (the table's one cache miss) while the caller does other work. Safe to call without the
  // recorder's lock: a prefetch never faults, and a stale table only wastes the hint.
  // (slots_ and slot_count_ are written with atomic stores for this reader.)
  void prefetch(std::uintptr_t address) const noexcept {
    const Slot* slots = __atomic_load_n(&slots_, __ATOMIC_RELAXED);
    const std::size_t count = __atomic_load_n(&slot_count_, __ATOMIC_RELAXED);
    if (count != 0) {
      __builtin_prefetch(&slots[home_in(address, count)], 1);
    }
  }
  void clear() noexcept;
  // Whether the table lives in a reservation of address space (growth without copying).
  bool grows_in_place() const noexcept { return reserved_bytes_ != 0; }
  // Starts loading this object's own fields (the pending FIFO included) for writing: under the
  // recorder's lock in a threaded program they were last written by another core, and loading
  // them in parallel beats missing on each in turn.
  void prefetch_own_fields() const noexcept {
    for (std::size_t offset = 0; offset < sizeof(LiveTable); offset += 64) {
      __builtin_prefetch(reinterpret_cast<const char*>(this) + offset, 1);
    }
  }

 private:
  struct Slot {
    std::uintptr_t address;     // 0 = empty (malloc never returns address 0)
    std::uint64_t size_and_pp;  // size << 24 | program point
  };
  std::size_t home(std::uintptr_t address) const noexcept { return home_in(address, slot_count_); }
  static std::size_t home_in(std::uintptr_t address, std::size_t slot_count) noexcept {
    // Blocks close in memory share a cache line of the table, because programs tend to free
    // what they allocated together. Each 128-byte region of the heap maps to one line of four
    // slots (a cache line in the big, page-aligned tables): the region is mixed, then spread
    // over the lines with a multiply-shift (no power-of-two size needed), and bits 5-6 of the
    // address, rotated by the region's hash, pick the slot. Two blocks are at least 32 bytes
    // apart, so one region's blocks never share a home; the rotation keeps regions holding one
    // block (big blocks) from crowding slot 0 of every line. Measured: the json benchmark 11%
    // faster than with a hash of each address on its own.
    constexpr std::size_t kLine = 4;
    const std::uint64_t mixed = (address >> 7) * 0x9E3779B97F4A7C15ULL;
    __extension__ using Wide = unsigned __int128;  // GCC and Clang on 64-bit targets
    const auto line = static_cast<std::size_t>((static_cast<Wide>(mixed) * (slot_count / kLine)) >> 64);
    return line * kLine + (((address >> 5) + (mixed >> 40)) & (kLine - 1));
  }
  std::size_t next(std::size_t slot) const noexcept { return slot + 1 == slot_count_ ? 0 : slot + 1; }
  [[nodiscard]] bool grow() noexcept;
  [[nodiscard]] bool extend_slots(std::size_t new_count) noexcept;
  void rehash_in_place(std::size_t old_count) noexcept;
  static void release(Slot* slots, std::size_t count, std::size_t reserved_bytes) noexcept;

  [[nodiscard]] bool insert_now(const Slot& filled) noexcept;

  static constexpr std::size_t kPending = 8;

  Slot* slots_ = nullptr;
  std::size_t slot_count_ = 0;
  std::size_t reserved_bytes_ = 0;   // slots_ starts a reservation of this size (0: a plain allocation)
  std::size_t committed_bytes_ = 0;  // of the reservation, the usable prefix
  std::size_t used_ = 0;
  Slot pending_[kPending] = {};   // address 0: an empty place
  std::size_t pending_next_ = 0;  // the oldest place, written next
  std::size_t pending_used_ = 0;
};

}  // namespace dhat::core
