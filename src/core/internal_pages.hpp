// Large zeroed memory for the profiler's big tables, straight from the kernel.
//
// Contract: never reaches the malloc hooks (mmap is a system call); null on failure. Regions of
// at least kHugeRegion bytes ask for transparent huge pages. A reservation is address space
// only (no memory, no commit charge) until a prefix of it is committed; it is released whole.
//
// Why: the live-block table is the profiler's one big random-access structure (100 MB for three
// million live blocks); with 4 KiB pages nearly every lookup also missed the TLB. Fresh mappings
// are already zero, which saves the pass that marks every slot empty.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

namespace dhat::core {

inline constexpr std::size_t kHugeRegion = std::size_t{2} << 20;

inline void* map_zeroed_pages(std::size_t bytes) noexcept {
  void* region = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) {
    return nullptr;
  }
  if (bytes >= kHugeRegion) {
    madvise(region, bytes, MADV_HUGEPAGE);  // advice only: a refusal changes nothing
  }
  return region;
}

// Reserves `bytes` (a multiple of kHugeRegion) of address space, aligned to kHugeRegion so that
// committed prefixes can be backed by whole huge pages.
inline void* reserve_pages(std::size_t bytes) noexcept {
  void* mapped = mmap(nullptr, bytes + kHugeRegion, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapped == MAP_FAILED) {
    return nullptr;
  }
  const auto start = reinterpret_cast<std::uintptr_t>(mapped);
  const std::uintptr_t aligned = (start + kHugeRegion - 1) & ~(std::uintptr_t{kHugeRegion} - 1);
  if (aligned != start) {
    munmap(mapped, aligned - start);
  }
  munmap(reinterpret_cast<void*>(aligned + bytes), kHugeRegion - (aligned - start));
  return reinterpret_cast<void*>(aligned);
}

// Makes bytes [from, to) of a reservation readable and writable (zero until written).
inline bool commit_pages(void* reservation, std::size_t from, std::size_t to) noexcept {
  char* start = static_cast<char*>(reservation) + from;
  if (mprotect(start, to - from, PROT_READ | PROT_WRITE) != 0) {
    return false;
  }
  madvise(start, to - from, MADV_HUGEPAGE);  // advice only
  return true;
}

inline void unmap_pages(void* region, std::size_t bytes) noexcept {
  if (region != nullptr) {
    munmap(region, bytes);
  }
}

}  // namespace dhat::core
