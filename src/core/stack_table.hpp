// Interning of raw stacks: each distinct stack becomes one program point (PpId, dense from 0).
//
// Contract: not thread-safe (the recorder serializes calls); memory comes from internal_alloc;
// `intern` returns kNoPp only when memory runs out. Frames of a program point stay valid until
// `clear()`.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/internal_vector.hpp"

namespace dhat::core {

using PpId = std::uint32_t;
inline constexpr PpId kNoPp = 0xFFFFFFFFU;
// Never interned: the "site" of a block that the profiler's own code reallocated (recorder.cpp),
// which is neither recorded nor counted as lost.
inline constexpr PpId kProfilersOwnPp = 0xFFFFFFFEU;

class StackTable {
 public:
  StackTable() = default;
  StackTable(const StackTable&) = delete;
  StackTable& operator=(const StackTable&) = delete;
  ~StackTable();

  [[nodiscard]] PpId intern(const std::uintptr_t* frames, std::uint32_t depth, std::uint64_t hash) noexcept;

  std::size_t size() const noexcept { return stacks_.size(); }
  const std::uintptr_t* frames(PpId pp) const noexcept { return arena_.data() + stacks_[pp].offset; }
  std::uint32_t depth(PpId pp) const noexcept { return stacks_[pp].depth; }

  void clear() noexcept;

 private:
  struct StackRef {
    std::size_t offset;  // into arena_
    std::uint32_t depth;
  };
  struct Slot {
    std::uint64_t hash;
    PpId pp;  // kNoPp = empty
  };

  bool equal(PpId pp, const std::uintptr_t* frames, std::uint32_t depth) const noexcept;
  [[nodiscard]] bool grow() noexcept;

  Slot* slots_ = nullptr;
  std::size_t slot_count_ = 0;  // a power of two
  InternalVector<StackRef> stacks_;
  InternalVector<std::uintptr_t> arena_;
};

}  // namespace dhat::core
