// One heap event as the recorder hands it on: what happened, to which block, at which program
// point, in which run.
//
// Contract: a plain value of 24 bytes. Its time travels beside it, in the unit of whoever holds
// it: a TSC stamp in a thread's ring (event_ring.hpp), microseconds in the single thread's delay
// line (delay_line.hpp). Events of a run other than the current one (`generation`) are dropped.
#pragma once

#include <cstdint>

#include "core/stack_table.hpp"

namespace dhat::core {

enum class EventKind : std::uint8_t {
  alloc,           // address, size, pp
  free,            // address
  realloc_from,    // address: the block realloc is about to move or resize (before the call)
  realloc_to,      // address, size, pp (the site, if the old block was unknown): realloc's result
  realloc_failed,  // address: realloc failed, the old block stays
};

struct HeapEvent {
  std::uintptr_t address = 0;
  std::uint64_t size_and_kind = 0;  // size | kind << 56
  PpId pp = kNoPp;
  std::uint32_t generation = 0;  // the run it belongs to (0: none, an empty place)

  static constexpr unsigned kKindShift = 56;
  static HeapEvent make(EventKind kind, std::uintptr_t address, std::uint64_t size, PpId pp,
                        std::uint32_t generation) noexcept {
    HeapEvent e;
    e.address = address;
    e.size_and_kind = (size & ((std::uint64_t{1} << kKindShift) - 1)) | std::uint64_t{static_cast<std::uint8_t>(kind)}
                                                                            << kKindShift;
    e.pp = pp;
    e.generation = generation;
    return e;
  }
  EventKind kind() const noexcept { return static_cast<EventKind>(size_and_kind >> kKindShift); }
  std::uint64_t size() const noexcept { return size_and_kind & ((std::uint64_t{1} << kKindShift) - 1); }
};
static_assert(sizeof(HeapEvent) == 24, "with its time, two events per cache line");

}  // namespace dhat::core
