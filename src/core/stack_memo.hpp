// A thread's memory of its recent stack walks and the program points they became.
//
// Contract: one per thread, claimed on its first capture (capture.cpp) from the profiler's own
// zeroed pages, never from TLS: at 18 KiB it would be carved out of every thread's stack and of
// the static TLS that libraries loaded with dlopen share. Only its thread touches it; at the
// thread's exit it goes back to a pool for the next thread (its entries stay valid: a hit is
// checked against the stack itself). An entry is valid for one recording run (its generation): program point
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
  std::uint32_t last_use;  // the memo's use counter when this entry last hit or was filled
  std::uintptr_t frames[kFrames];
  std::uint64_t rules[kFrames];
};

struct StackMemo {
  // 16 sets of 4 ways, least-recently-used replacement (about 18 KiB per thread). Measured on
  // the bench: with 8 sets of 2 ways the sqlite workload missed 30,000 times and the json one
  // 3.5 of 6.2 million times (one call site reached from many callers at the same depth, or
  // recursion at many depths); with 16x4, sqlite misses 400 times and json 2.0 million
  // (16x8, 36 KiB, halves json's misses again for ~8% of its time: not worth it per thread).
  static constexpr unsigned kSetBits = 4;
  static constexpr std::size_t kWays = 4;
  // The counter and the pool's link first: on the page of the first entries, so that a thread
  // with one call site touches one page of its memo, not two.
  std::uint32_t uses;    // counts lookups, for least-recently-used replacement within a set
  StackMemo* next_free;  // in the pool of memos of exited threads
  StackMemoEntry entries[(std::size_t{1} << kSetBits) * kWays];

  // The set for a walk starting at `start`.
  std::size_t set_of(const CallerFrame& start) const noexcept {
    const std::uint64_t key = (start.ip ^ (start.sp << 17)) * 0x9E3779B97F4A7C15ULL;
    return static_cast<std::size_t>(key >> (64 - kSetBits));
  }
  StackMemoEntry& way(std::size_t set, std::size_t index) noexcept { return entries[set * kWays + index]; }
  // The entry to replace in `set`: the least recently used.
  StackMemoEntry& victim(std::size_t set) noexcept {
    StackMemoEntry* oldest = &way(set, 0);
    for (std::size_t i = 1; i < kWays; ++i) {
      StackMemoEntry& candidate = way(set, i);
      if (static_cast<std::int32_t>(candidate.last_use - oldest->last_use) < 0) {
        oldest = &candidate;
      }
    }
    return *oldest;
  }
  void touch(StackMemoEntry& entry) noexcept { entry.last_use = ++uses; }
};

}  // namespace dhat::core
