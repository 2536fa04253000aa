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
  // Two-way set associative: allocation sites that happen to share a set do not evict each
  // other on every call (a loop over a handful of containers has a dozen sites).
  static constexpr unsigned kSetBits = 3;
  static constexpr std::size_t kWays = 2;
  StackMemoEntry entries[(std::size_t{1} << kSetBits) * kWays];
  std::uint8_t recent_way[std::size_t{1} << kSetBits];  // the way hit or filled last, per set

  // The set's first entry for a walk starting at `start` (the other is right after it).
  std::size_t set_of(const CallerFrame& start) const noexcept {
    const std::uint64_t key = (start.ip ^ (start.rsp << 17)) * 0x9E3779B97F4A7C15ULL;
    return static_cast<std::size_t>(key >> (64 - kSetBits));
  }
  StackMemoEntry& way(std::size_t set, std::size_t index) noexcept { return entries[set * kWays + index]; }
  // The entry to replace in `set`: the one not used last.
  StackMemoEntry& victim(std::size_t set) noexcept { return way(set, recent_way[set] == 0 ? 1 : 0); }
  void touch(std::size_t set, const StackMemoEntry& entry) noexcept {
    recent_way[set] = static_cast<std::uint8_t>(&entry - &entries[set * kWays]);
  }
};

}  // namespace dhat::core
