// A thread's memory of its recent stack walks and the program points they became.
//
// Contract: one per thread (initial-exec TLS, zero-initialized: no constructor runs); only its
// thread touches it. An entry is valid for one recording run (its generation): program point
// ids are the run's own. Entries are keyed by the first return address and stack pointer: a
// call site reached by different paths usually sits at different depths. A miss only costs a
// full walk.
//
// Why: allocation sites repeat. Checking that a walk from the same registers reads the same
// return addresses (cfi_same_walk) costs a few loads per frame, against a rule-cache lookup per
// frame plus hashing and interning the stack for a full capture.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/stack_capture.hpp"
#include "core/stack_table.hpp"

namespace dhat::core {

struct StackMemoEntry {
  static constexpr std::size_t kFrames = 16;  // deeper stacks are not memoized
  std::uint32_t generation;                   // 0: empty
  PpId pp;
  std::uint32_t depth;
  bool ends_with_zero;
  std::uintptr_t frames[kFrames];
  std::uint64_t rules[kFrames];
};

struct StackMemo {
  static constexpr unsigned kEntryBits = 4;
  static constexpr std::size_t kEntries = std::size_t{1} << kEntryBits;
  StackMemoEntry entries[kEntries];

  StackMemoEntry& entry_for(const CallerFrame& start) noexcept {
    const std::uint64_t key = (start.ip ^ (start.rsp << 17)) * 0x9E3779B97F4A7C15ULL;
    return entries[key >> (64 - kEntryBits)];
  }
};

}  // namespace dhat::core
