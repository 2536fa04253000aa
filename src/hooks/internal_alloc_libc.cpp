// internal_alloc.hpp for the hooked library: never through the hooks. Small requests go to
// glibc's `__libc_*` functions; requests of 64 KiB or more get pages of their own (mmap).
//
// Why the split: glibc reacts to big blocks. Freeing one of 64 KiB or more from its heap makes it
// merge every small block the program has freed into its fast bins (a pass over the program's
// whole heap, which the program without the profiler never pays), and freeing one it had mapped
// raises its mmap threshold for the rest of the run. The profiler's big tables must not change
// how the program's allocator behaves.
#include <sys/mman.h>

#include <cstdint>
#include <cstring>

#include "core/internal_alloc.hpp"
#include "core/internal_pages.hpp"
#include "hooks/libc_entry_points.hpp"

namespace dhat::core {

namespace {

constexpr std::size_t kOwnPagesFrom = std::size_t{64} << 10;
constexpr std::size_t kPage = 4096;

// In front of every block (16 bytes keep the block 16-byte aligned).
struct Header {
  std::size_t bytes;   // what the caller asked for
  std::size_t mapped;  // the mapping's length, or 0 for a glibc block
};
static_assert(sizeof(Header) == 16, "keeps blocks 16-byte aligned");

Header* header_of(void* block) { return static_cast<Header*>(block) - 1; }

// The whole pages holding `bytes` behind a header.
std::size_t pages_for(std::size_t bytes) { return (bytes + sizeof(Header) + kPage - 1) & ~(kPage - 1); }

void* allocate(std::size_t bytes) noexcept {
  if (bytes > SIZE_MAX - kOwnPagesFrom) {
    return nullptr;
  }
  std::size_t mapped = 0;
  Header* header = nullptr;
  if (bytes >= kOwnPagesFrom) {
    mapped = pages_for(bytes);
    header = static_cast<Header*>(map_zeroed_pages(mapped));
  } else {
    header = static_cast<Header*>(__libc_malloc(bytes + sizeof(Header)));
  }
  if (header == nullptr) {
    return nullptr;
  }
  header->bytes = bytes;
  header->mapped = mapped;
  return header + 1;
}

void release(void* block) noexcept {
  Header* header = header_of(block);
  if (header->mapped != 0) {
    unmap_pages(header, header->mapped);
  } else {
    __libc_free(header);
  }
}

}  // namespace

void* internal_malloc(std::size_t bytes) noexcept { return allocate(bytes); }

void* internal_realloc(void* block, std::size_t bytes) noexcept {
  if (block == nullptr) {
    return allocate(bytes);
  }
  Header* header = header_of(block);
  if (header->mapped == 0 && bytes < kOwnPagesFrom) {
    auto* grown = static_cast<Header*>(__libc_realloc(header, bytes + sizeof(Header)));
    if (grown == nullptr) {
      return nullptr;
    }
    grown->bytes = bytes;
    return grown + 1;
  }
  if (header->mapped != 0 && bytes >= kOwnPagesFrom && bytes <= SIZE_MAX - kOwnPagesFrom) {
    // Pages of its own already: grow within them, or let the kernel move the pages (no copy).
    const std::size_t mapped = pages_for(bytes);
    void* region = header;
    if (mapped != header->mapped) {
      region = mremap(header, header->mapped, mapped, MREMAP_MAYMOVE);
      if (region == MAP_FAILED) {
        return nullptr;  // the old block stays valid, as with realloc
      }
    }
    auto* moved = static_cast<Header*>(region);
    moved->bytes = bytes;
    moved->mapped = mapped;
    return moved + 1;
  }
  void* moved = allocate(bytes);
  if (moved == nullptr) {
    return nullptr;  // the old block stays valid, as with realloc
  }
  std::memcpy(moved, block, header->bytes < bytes ? header->bytes : bytes);
  release(block);
  return moved;
}

void internal_free(void* block) noexcept {
  if (block != nullptr) {
    release(block);
  }
}

}  // namespace dhat::core
