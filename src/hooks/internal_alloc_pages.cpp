// internal_alloc.hpp for the hooked library: memory from the profiler's own pages, never from
// the program's allocator. Requests up to 64 KiB come from size classes (powers of two, from 32
// bytes) carved out of 1 MiB mappings, with a free list per class; bigger ones get pages of their
// own (mmap), which grow with mremap.
//
// Why not glibc's malloc for the small ones (as before): a signal handler that allocates may
// interrupt the profiler at any point, and glibc's malloc must not be re-entered (a handler
// interrupting the profiler's own table growth inside glibc aborted the program with heap
// corruption in 3 of ~38 runs); the program's allocator may not be glibc's at all (jemalloc,
// tcmalloc); and glibc reacts to big blocks (freeing one of 64 KiB or more makes it merge every
// small block the program freed into its fast bins, a pass over the whole heap the program
// without the profiler never pays). The program's allocator must behave as if the profiler were
// not there (integration.Hooks.TheProfilersTablesTakeNothingFromTheProgramsHeap).
//
// Thread safety: a lock of its own, which the recorder's fork handlers also take (the sealed
// object's operator new calls in here without holding any recorder lock).
#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <mutex>

#include "core/internal_alloc.hpp"
#include "core/internal_pages.hpp"
#include "core/recorder_state.hpp"
#include "core/spin_lock.hpp"

namespace dhat::core {

namespace {

constexpr std::size_t kOwnPagesFrom = std::size_t{64} << 10;
constexpr std::size_t kPage = 4096;

// In front of every block (16 bytes keep the block 16-byte aligned).
struct Header {
  std::size_t bytes;   // what the caller asked for
  std::size_t mapped;  // the mapping's length, or 0 for a block of a size class
};
static_assert(sizeof(Header) == 16, "keeps blocks 16-byte aligned");

// Size classes: blocks (header included) of 2^kSmallestShift .. kOwnPagesFrom bytes.
constexpr unsigned kSmallestShift = 5;
constexpr unsigned kClasses = 12;  // 32 B .. 64 KiB
static_assert((std::size_t{1} << (kSmallestShift + kClasses - 1)) == kOwnPagesFrom, "classes end at own pages");
constexpr std::size_t kChunk = std::size_t{1} << 20;

struct FreeBlock {
  FreeBlock* next;
};

struct ClassAllocator {
  dhat::core::SpinLock lock;
  FreeBlock* free[kClasses] = {};
  char* chunk_next = nullptr;  // the unused rest of the current chunk
  char* chunk_end = nullptr;
};
ClassAllocator g_classes;

// Whether a block of `bytes` gets pages of its own (its header and it pass the largest class).
bool own_pages_for(std::size_t bytes) { return bytes > kOwnPagesFrom - sizeof(Header); }

unsigned class_of(std::size_t total) {
  unsigned c = 0;
  while ((std::size_t{1} << (kSmallestShift + c)) < total) {
    ++c;
  }
  return c;
}
std::size_t class_size(unsigned c) { return std::size_t{1} << (kSmallestShift + c); }

// Marked while the lock is held (see t_holds_lock): a signal handler that interrupts here and
// allocates has its events held, never recorded now, since recording could grow a table and
// wait for this lock, which its own thread holds.
void* class_allocate(unsigned c) noexcept {
  const RecorderMark marked;
  const std::lock_guard<dhat::core::SpinLock> hold(g_classes.lock);
  if (FreeBlock* block = g_classes.free[c]) {
    g_classes.free[c] = block->next;
    return block;
  }
  const std::size_t size = class_size(c);
  if (static_cast<std::size_t>(g_classes.chunk_end - g_classes.chunk_next) < size) {
    // The rest of the chunk is too small: hand it out to the smaller classes' free lists, then
    // start a new chunk (chunks are never given back: the profiler's small blocks are few).
    for (unsigned smaller = c; smaller-- > 0;) {
      while (static_cast<std::size_t>(g_classes.chunk_end - g_classes.chunk_next) >= class_size(smaller)) {
        auto* spare = reinterpret_cast<FreeBlock*>(g_classes.chunk_next);
        spare->next = g_classes.free[smaller];
        g_classes.free[smaller] = spare;
        g_classes.chunk_next += class_size(smaller);
      }
    }
    auto* chunk = static_cast<char*>(dhat::core::map_zeroed_pages(kChunk));
    if (chunk == nullptr) {
      return nullptr;
    }
    g_classes.chunk_next = chunk;
    g_classes.chunk_end = chunk + kChunk;
  }
  void* block = g_classes.chunk_next;
  g_classes.chunk_next += size;
  return block;
}

void class_release(void* block, unsigned c) noexcept {
  const RecorderMark marked;  // as in class_allocate
  const std::lock_guard<dhat::core::SpinLock> hold(g_classes.lock);
  auto* freed = static_cast<FreeBlock*>(block);
  freed->next = g_classes.free[c];
  g_classes.free[c] = freed;
}

Header* header_of(void* block) { return static_cast<Header*>(block) - 1; }

// The whole pages holding `bytes` behind a header.
std::size_t pages_for(std::size_t bytes) { return (bytes + sizeof(Header) + kPage - 1) & ~(kPage - 1); }

void* allocate(std::size_t bytes) noexcept {
  if (bytes > SIZE_MAX - kOwnPagesFrom) {
    return nullptr;
  }
  std::size_t mapped = 0;
  Header* header = nullptr;
  if (own_pages_for(bytes)) {
    mapped = pages_for(bytes);
    header = static_cast<Header*>(map_zeroed_pages(mapped));
  } else {
    header = static_cast<Header*>(class_allocate(class_of(bytes + sizeof(Header))));
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
    class_release(header, class_of(header->bytes + sizeof(Header)));
  }
}

}  // namespace

void* internal_malloc(std::size_t bytes) noexcept { return allocate(bytes); }

void* internal_realloc(void* block, std::size_t bytes) noexcept {
  if (block == nullptr) {
    return allocate(bytes);
  }
  Header* header = header_of(block);
  if (header->mapped == 0 && !own_pages_for(bytes) &&
      class_of(bytes + sizeof(Header)) == class_of(header->bytes + sizeof(Header))) {
    header->bytes = bytes;  // still fits its class
    return block;
  }
  if (header->mapped != 0 && own_pages_for(bytes) && bytes <= SIZE_MAX - kOwnPagesFrom) {
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

void internal_alloc_before_fork() noexcept { g_classes.lock.lock(); }
void internal_alloc_after_fork() noexcept { g_classes.lock.unlock(); }

}  // namespace dhat::core
