// A program that allocates through the C functions, operator new and (when built for one) an
// allocator's own entry points, with numbers the test knows exactly, then proves which allocator
// served its blocks from that allocator's own statistics.
//
// Built once per allocator and mode (CMakeLists.txt): PROBE_JEMALLOC, PROBE_TCMALLOC or
// PROBE_MIMALLOC call that allocator's entry points (linked with it); without one, the program
// knows no allocator (the LD_PRELOAD runs). PROBE_LINKED starts a dhat::Profiler in main.
//
// usage: allocator_probe OUT.json THREADS ROUNDS
// Prints "proof: ALLOCATOR OWNED of WANTED, statistics grew by GREW" (OWNED: the bytes of the
// peak's blocks that the allocator says are its own) and exits 0, or says what went wrong and
// exits 1.
#include <dlfcn.h>
#include <malloc.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dhat/dhat.hpp>
#include <new>
#include <string>
#include <thread>
#include <vector>

#if defined(PROBE_JEMALLOC)
#include <jemalloc/jemalloc.h>
#elif defined(PROBE_TCMALLOC)
#include <gperftools/tcmalloc.h>
#elif defined(PROBE_MIMALLOC)
#include <mimalloc.h>
#endif

// The sites, one function each (C names: the test finds them by frame). Never inlined, and
// compiled with -fno-optimize-sibling-calls so each keeps its frame.
extern "C" {
__attribute__((noinline)) void* probe_kept(std::size_t n) { return std::malloc(n); }
__attribute__((noinline)) void* probe_malloc(std::size_t n) { return std::malloc(n); }
__attribute__((noinline)) void* probe_calloc(std::size_t n) { return std::calloc(n, 1); }
__attribute__((noinline)) void* probe_realloc(void* p, std::size_t n) { return std::realloc(p, n); }
__attribute__((noinline)) void* probe_aligned(std::size_t n) { return aligned_alloc(64, n); }
__attribute__((noinline)) char* probe_new(std::size_t n) { return new char[n]; }
__attribute__((noinline)) void* probe_peak(std::size_t n) { return std::malloc(n); }
#if defined(PROBE_JEMALLOC)
// malloc's blocks through jemalloc's own API, all valid with jemalloc as the allocator (each
// crashed or corrupted the heap when the hooks handed malloc's blocks to glibc): rallocx grows
// one, xallocx resizes it in place, sallocx and malloc_usable_size measure it, dallocx frees it.
__attribute__((noinline)) void* probe_mixed(std::size_t n) { return std::malloc(n); }
__attribute__((noinline)) void* probe_mixed_grow(void* p, std::size_t n) { return rallocx(p, n, 0); }
void mixed_family(std::size_t rounds) {
  for (std::size_t r = 0; r < rounds; ++r) {
    void* block = probe_mixed_grow(probe_mixed(64), 128);  // 64 then 128: 192 bytes, 2 blocks
    if (sallocx(block, 0) < 128 || malloc_usable_size(block) < 128) {
      std::abort();
    }
    static_cast<void>(xallocx(block, 96, 0, 0));  // a shrink in place: one more block of 96
    dallocx(block, 0);
  }
}
__attribute__((noinline)) void* probe_native(std::size_t n) { return mallocx(n, 0); }
__attribute__((noinline)) void* probe_native_realloc(void* p, std::size_t n) { return rallocx(p, n, 0); }
__attribute__((noinline)) void probe_native_free(void* p, std::size_t n) { sdallocx(p, n, 0); }
__attribute__((noinline)) void* probe_native_aligned(std::size_t n) { return mallocx(n, MALLOCX_ALIGN(64)); }
__attribute__((noinline)) void probe_native_free_aligned(void* p) { dallocx(p, MALLOCX_ALIGN(64)); }
#elif defined(PROBE_TCMALLOC)
// malloc's blocks through tcmalloc's own API: tc_realloc grows one, tc_malloc_size measures it,
// tc_free frees it.
__attribute__((noinline)) void* probe_mixed(std::size_t n) { return std::malloc(n); }
__attribute__((noinline)) void* probe_mixed_grow(void* p, std::size_t n) { return tc_realloc(p, n); }
void mixed_family(std::size_t rounds) {
  for (std::size_t r = 0; r < rounds; ++r) {
    void* block = probe_mixed_grow(probe_mixed(64), 128);
    if (tc_malloc_size(block) < 128) {
      std::abort();
    }
    void* other = tc_realloc(block, 96);  // a shrink: one more block of 96
    tc_free(other);
  }
}
__attribute__((noinline)) void* probe_native(std::size_t n) { return tc_malloc(n); }
__attribute__((noinline)) void* probe_native_realloc(void* p, std::size_t n) { return tc_realloc(p, n); }
__attribute__((noinline)) void probe_native_free(void* p, std::size_t n) { tc_free_sized(p, n); }
__attribute__((noinline)) void* probe_native_aligned(std::size_t n) { return tc_new_aligned(n, std::align_val_t{64}); }
__attribute__((noinline)) void probe_native_free_aligned(void* p) { tc_delete_aligned(p, std::align_val_t{64}); }
#elif defined(PROBE_MIMALLOC)
// malloc's blocks through mimalloc's own API: mi_realloc grows one, mi_usable_size measures it,
// mi_free frees it.
__attribute__((noinline)) void* probe_mixed(std::size_t n) { return std::malloc(n); }
__attribute__((noinline)) void* probe_mixed_grow(void* p, std::size_t n) { return mi_realloc(p, n); }
void mixed_family(std::size_t rounds) {
  for (std::size_t r = 0; r < rounds; ++r) {
    void* block = probe_mixed_grow(probe_mixed(64), 128);
    if (mi_usable_size(block) < 128) {
      std::abort();
    }
    void* other = mi_realloc(block, 96);  // a shrink: one more block of 96
    mi_free(other);
  }
}
__attribute__((noinline)) void* probe_native(std::size_t n) { return mi_malloc(n); }
__attribute__((noinline)) void* probe_native_realloc(void* p, std::size_t n) { return mi_realloc(p, n); }
__attribute__((noinline)) void probe_native_free(void* p, std::size_t n) { mi_free_size(p, n); }
__attribute__((noinline)) void* probe_native_aligned(std::size_t n) { return mi_malloc_aligned(n, 64); }
__attribute__((noinline)) void probe_native_free_aligned(void* p) { mi_free(p); }
#endif
}

namespace {

constexpr std::size_t kKeptPerThread = 10;
constexpr std::size_t kPeakBlocks = 64, kPeakBytes = 65536;  // 4 MiB: far above anything else

// One thread's work: every block freed at once except the kept ones (live at t-end).
void work(std::size_t rounds, std::vector<void*>* kept) {
  for (std::size_t i = 0; i < kKeptPerThread; ++i) {
    kept->push_back(probe_kept(100));
  }
  for (std::size_t r = 0; r < rounds; ++r) {
    std::free(probe_malloc(1000));
    std::free(probe_calloc(200));
    std::free(probe_realloc(probe_realloc(nullptr, 40), 80));  // 40 then 80: 120 bytes in 2 blocks
    std::free(probe_aligned(128));
    delete[] probe_new(64);
#if defined(PROBE_JEMALLOC) || defined(PROBE_TCMALLOC) || defined(PROBE_MIMALLOC)
    std::free(probe_native(300));                               // the allocator's block, freed with free()
    probe_native_free(probe_malloc(500), 500);                  // malloc's block, freed by the allocator's own
    void* grown = probe_native_realloc(probe_native(50), 150);  // 200 bytes in 2 blocks
    probe_native_free(grown, 150);
    probe_native_free_aligned(probe_native_aligned(256));
#endif
  }
#if defined(PROBE_JEMALLOC) || defined(PROBE_TCMALLOC) || defined(PROBE_MIMALLOC)
  mixed_family(rounds);
#endif
}

using Mallctl = int (*)(const char*, void*, std::size_t*, void*, std::size_t);
using NumericProperty = int (*)(const char*, std::size_t*);
using Ownership = int (*)(const void*);
using InHeap = bool (*)(const void*);

// The allocator in the process, asked for its own count of bytes in use ("none" and 0 for glibc).
std::uint64_t allocated_bytes(const char** allocator) {
  if (auto mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"))) {
    *allocator = "jemalloc";
    std::uint64_t epoch = 1;
    std::size_t size = sizeof epoch;
    mallctl("epoch", &epoch, &size, &epoch, size);  // refreshes the statistics
    std::size_t allocated = 0;
    size = sizeof allocated;
    return mallctl("stats.allocated", &allocated, &size, nullptr, 0) == 0 ? allocated : 0;
  }
  if (auto property = reinterpret_cast<NumericProperty>(dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty"))) {
    *allocator = "tcmalloc";
    std::size_t allocated = 0;
    return property("generic.current_allocated_bytes", &allocated) != 0 ? allocated : 0;
  }
  if (dlsym(RTLD_DEFAULT, "mi_is_in_heap_region") != nullptr) {
    *allocator = "mimalloc";
  }
  return 0;
}

// Whether the allocator says `block` is one of its own: jemalloc's arenas.lookup finds its arena,
// tcmalloc's MallocExtension_GetOwnership says kOwned (1), mimalloc's mi_is_in_heap_region.
bool owned(const void* block) {
  if (auto mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"))) {
    unsigned arena = 0;
    std::size_t size = sizeof arena;
    const void* pointer = block;
    return mallctl("arenas.lookup", &arena, &size, &pointer, sizeof pointer) == 0;
  }
  if (auto ownership = reinterpret_cast<Ownership>(dlsym(RTLD_DEFAULT, "MallocExtension_GetOwnership"))) {
    return ownership(block) == 1;  // kOwned
  }
  if (auto in_heap = reinterpret_cast<InHeap>(dlsym(RTLD_DEFAULT, "mi_is_in_heap_region"))) {
    return in_heap(block);
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fputs("usage: allocator_probe OUT.json THREADS ROUNDS\n", stderr);
    return 1;
  }
  const std::size_t threads = std::strtoul(argv[2], nullptr, 10);
  const std::size_t rounds = std::strtoul(argv[3], nullptr, 10);
#if defined(PROBE_LINKED)
  dhat::Profiler profiler = dhat::Profiler::builder().file_name(argv[1]).build();
#endif
  std::vector<std::vector<void*>> kept(threads);
  for (auto& list : kept) {
    list.reserve(kKeptPerThread);
  }
  if (threads == 1) {
    work(rounds, &kept[0]);
  } else {
    std::vector<std::thread> workers;
    for (std::size_t t = 0; t < threads; ++t) {
      workers.emplace_back(work, rounds, &kept[t]);
    }
    for (std::thread& worker : workers) {
      worker.join();
    }
  }

  // The peak: 4 MiB live at once, then the proof that the program's allocator holds it: every
  // block is its own, its statistics grew by about as much (jemalloc and tcmalloc keep such a
  // count: their thread caches make it inexact), and its malloc_usable_size answers for them.
  const char* allocator = "none";
  const std::uint64_t before = allocated_bytes(&allocator);
  std::vector<void*> peak(kPeakBlocks);
  for (void*& block : peak) {
    block = probe_peak(kPeakBytes);
    std::memset(block, 1, kPeakBytes);
  }
  const std::uint64_t after = allocated_bytes(&allocator);
  std::uint64_t owned_bytes = 0;
  bool usable_ok = true;
  for (void* block : peak) {
    owned_bytes += owned(block) ? kPeakBytes : 0;
    usable_ok = usable_ok && malloc_usable_size(block) >= kPeakBytes;
  }
  for (void* block : peak) {
    std::free(block);
  }
  std::printf("proof: %s %llu of %llu, statistics grew by %llu\n", allocator,
              static_cast<unsigned long long>(owned_bytes), static_cast<unsigned long long>(kPeakBlocks) * kPeakBytes,
              static_cast<unsigned long long>(after > before ? after - before : 0));
  if (!usable_ok) {
    std::puts("malloc_usable_size answered less than the block's size");
    return 1;
  }
  return 0;  // the kept blocks stay live until the end
}
