// Large zeroed memory for the profiler's big tables, straight from the kernel.
//
// Contract: never reaches the malloc hooks (mmap is a system call); null on failure. Regions of
// at least kHugeRegion bytes ask for transparent huge pages.
//
// Why: the live-block table is the profiler's one big random-access structure (100 MB for three
// million live blocks); with 4 KiB pages nearly every lookup also missed the TLB. Fresh mappings
// are already zero, which saves the pass that marks every slot empty.
#pragma once

#include <sys/mman.h>

#include <cstddef>

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

inline void unmap_pages(void* region, std::size_t bytes) noexcept {
  if (region != nullptr) {
    munmap(region, bytes);
  }
}

}  // namespace dhat::core
