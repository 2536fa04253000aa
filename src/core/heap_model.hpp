// DHAT's accounting: per-program-point and global counters, the global peak (t-gmax) and what
// each program point had live at it, lifetimes, t-end.
//
// Contract: pure bookkeeping, not thread-safe (the recorder serializes calls), no I/O. The rules
// are Valgrind's (dh_main.c) as written down in shared/spec/dhat-format.md:
//  - a new global peak is declared with >=, so the latest of equal peaks wins;
//  - realloc counts as a new block in the totals, keeps the block count, moves the bytes;
//  - the "at t-gmax" figures cost O(1) per operation: every program point remembers the sequence
//    number of its last change, and is snapshotted lazily when it is first touched after a peak;
//  - lifetimes need no per-block birth time: a program point's total lifetime is the sum of its
//    frees' times plus t-end for each block still live, minus the sum of all its births. So the
//    live table stores only size and program point per block (16 bytes, not 24).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/internal_vector.hpp"
#include "core/stack_table.hpp"

namespace dhat::core {

struct PpCounters {
  std::uint64_t total_bytes = 0;        // tb
  std::uint64_t total_blocks = 0;       // tbk
  std::uint64_t total_lifetime_us = 0;  // tl (valid once finish() ran, or from counters_at)
  std::uint64_t curr_bytes = 0;
  std::uint64_t curr_blocks = 0;
  std::uint64_t max_bytes = 0;    // mb: this PP's own peak of live bytes
  std::uint64_t max_blocks = 0;   // mbk: live blocks at that moment
  std::uint64_t gmax_bytes = 0;   // gb (valid once finish() ran, or when snapshotted)
  std::uint64_t gmax_blocks = 0;  // gbk
  // tmpbk (dhat-cpp's field): blocks freed by the thread that allocated them before that thread
  // allocated anything else (heaptrack's "temporary allocations": allocator pressure).
  std::uint64_t temporary_blocks = 0;
  // Sum of free times minus sum of birth times, modulo 2^64: tl = this + curr_blocks * t-end.
  std::uint64_t lifetime_partial_us = 0;
  std::uint64_t last_change_seq = 0;
};

struct GlobalCounters {
  std::uint64_t total_bytes = 0;
  std::uint64_t total_blocks = 0;
  std::uint64_t curr_bytes = 0;
  std::uint64_t curr_blocks = 0;
  std::uint64_t max_bytes = 0;   // at t-gmax
  std::uint64_t max_blocks = 0;  // at t-gmax
  std::uint64_t tgmax_us = 0;
  std::uint64_t tend_us = 0;
};

class HeapModel {
 public:
  // Makes room for program point `pp` (ids are dense); false if memory runs out.
  [[nodiscard]] bool ensure_pp(PpId pp) noexcept { return pp < pps_.size() || grow_to(pp); }

  void on_alloc(PpId pp, std::uint64_t bytes, std::uint64_t now_us) noexcept;
  // `temporary`: the freeing thread allocated nothing since it allocated this block.
  void on_free(PpId pp, std::uint64_t bytes, std::uint64_t now_us, bool temporary = false) noexcept;
  // A live block of `pp` changes size; it counts as a new block in the totals, and keeps its
  // birth time (as Valgrind does): its lifetime runs from the first allocation to the free.
  void on_realloc(PpId pp, std::uint64_t old_bytes, std::uint64_t new_bytes, std::uint64_t now_us) noexcept;

  // An ad hoc event of `weight` units at `pp`: tb += weight, tbk += 1 (no live state).
  void on_ad_hoc_event(PpId pp, std::uint64_t weight) noexcept;

  // What `pp` would report if the run ended at `now_us` (gmax resolved, live blocks' lifetimes
  // counted up to now), without changing anything: snapshots of a running profile use it.
  PpCounters counters_at(PpId pp, std::uint64_t now_us) const noexcept;

  // Ends the run at `now_us`: every PP becomes counters_at(pp, now_us); t-end is set.
  void finish(std::uint64_t now_us) noexcept;

  const GlobalCounters& global() const noexcept { return global_; }
  // Starts loading what an event of `pp` writes (see LiveTable::prefetch_own_fields).
  void prefetch_for(PpId pp) const noexcept {
    __builtin_prefetch(&global_, 1);
    __builtin_prefetch(&peak_seq_, 1);
    if (pp < pps_.size()) {
      const char* counters = reinterpret_cast<const char*>(&pps_[pp]);
      __builtin_prefetch(counters, 1);
      __builtin_prefetch(counters + sizeof(PpCounters) - 1, 1);
    }
  }
  std::size_t pp_count() const noexcept { return pps_.size(); }
  const PpCounters& pp(PpId id) const noexcept { return pps_[id]; }

  void clear() noexcept;

 private:
  // Called before a PP changes: if it has not changed since the latest peak, its current values
  // are its values at that peak, so save them now.
  [[nodiscard]] bool grow_to(PpId pp) noexcept;
  void before_change(PpCounters& pp) noexcept;
  void after_increase(PpCounters& pp, std::uint64_t now_us) noexcept;

  InternalVector<PpCounters> pps_;
  GlobalCounters global_;
  std::uint64_t seq_ = 0;       // operations so far
  std::uint64_t peak_seq_ = 0;  // operation that declared the latest peak
};

}  // namespace dhat::core
