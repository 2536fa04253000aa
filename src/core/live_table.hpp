// The set of live (allocated, not yet freed) blocks: address -> program point, size, birth time.
//
// Contract: not thread-safe (the recorder serializes calls); memory from internal_alloc; an
// insert that cannot get memory returns false and the block goes unrecorded. Open addressing
// with linear probing and backward-shift deletion, so there are no tombstones to rehash.
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
    std::uintptr_t address;  // 0 = empty (malloc never returns address 0)
    LiveBlock block;
  };
  std::size_t home(std::uintptr_t address) const noexcept;
  bool grow() noexcept;

  Slot* slots_ = nullptr;
  std::size_t slot_count_ = 0;  // a power of two
  std::size_t used_ = 0;
};

}  // namespace dhat::core
