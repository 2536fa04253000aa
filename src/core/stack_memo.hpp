// A thread's memory of its recent stack walks and the program points they became.
//
// Contract: one per thread (initial-exec TLS, zero-initialized: no constructor runs); only its
// thread touches it. An entry is valid for one recording run (its generation): program point
// ids are the run's own. Entries are keyed by the first return address, so a call site reached
// by different paths shares (and may thrash) one entry; a miss only costs a full walk.
//
// Why: allocation sites repeat. Checking that a walk from the same registers reads the same
// return addresses (cfi_same_walk) costs a few loads per frame, against a rule-cache lookup per
// frame plus hashing and interning the stack for a full capture.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/stack_table.hpp"

namespace dhat::core {

struct StackMemoEntry {
  static constexpr std::size_t kFrames = 24;  // deeper stacks are not memoized
  std::uint32_t generation;                   // 0: empty
  PpId pp;
  std::uint32_t depth;
  bool ends_with_zero;
  std::uintptr_t frames[kFrames];
  std::uint64_t rules[kFrames];
};

struct StackMemo {
  static constexpr std::size_t kEntries = 8;
  StackMemoEntry entries[kEntries];

  StackMemoEntry& entry_for(std::uintptr_t first_return_address) noexcept {
    return entries[((first_return_address * 0x9E3779B97F4A7C15ULL) >> 61) & (kEntries - 1)];
  }
};

}  // namespace dhat::core
