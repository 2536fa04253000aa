// The set of live (allocated, not yet freed) blocks: address -> program point, size, birth time.
//
// Contract: not thread-safe (the recorder serializes calls); memory from internal_alloc; an
// insert that cannot get memory (or whose program point or size does not fit a slot: more than
// 16 million program points, a block of 1 TiB) returns false and the block goes unrecorded.
// Open addressing with linear probing and backward-shift deletion (no tombstones). Memory is the
// profiler's largest cost, so a slot is 24 bytes (size and program point share a word) and the
// table grows by half, not double: about 32-48 bytes per live block.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/stack_table.hpp"

namespace dhat::core {

struct LiveBlock {
  std::uint64_t size;
  std::uint64_t birth_us;  // allocation time; kept across realloc, as Valgrind does
  PpId pp;
};

class LiveTable {
 public:
  LiveTable() = default;
  LiveTable(const LiveTable&) = delete;
  LiveTable& operator=(const LiveTable&) = delete;
  ~LiveTable();

  bool insert(std::uintptr_t address, const LiveBlock& block) noexcept;
  // Removes `address`; false if it is not a live block the profiler knows.
  bool remove(std::uintptr_t address, LiveBlock* removed) noexcept;
  std::size_t size() const noexcept { return used_; }
  void clear() noexcept;

 private:
  struct Slot {
    std::uintptr_t address;     // 0 = empty (malloc never returns address 0)
    std::uint64_t size_and_pp;  // size << 24 | program point
    std::uint64_t birth_us;
  };
  std::size_t home(std::uintptr_t address) const noexcept;
  std::size_t next(std::size_t slot) const noexcept { return slot + 1 == slot_count_ ? 0 : slot + 1; }
  bool grow() noexcept;

  Slot* slots_ = nullptr;
  std::size_t slot_count_ = 0;
  std::size_t used_ = 0;
};

}  // namespace dhat::core
