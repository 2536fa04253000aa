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
//
// usage: allocator_probe OUT.json handler   (linked, with an allocator's own API)
// A SIGALRM handler (every 500 us) grows and frees blocks through the allocator's own realloc and
// free, interrupting a thread that reads the heap's numbers in a loop (inside the profiler, often
// holding its lock): kPinned blocks of 1 MiB made at probe_pinned, each grown by 64 KiB at
// probe_handler_grow (a move: the old address is let go) and freed, newest first. Two workers
// allocate and free blocks of 1 MiB at probe_reuse (with small ones at probe_small between)
// until every pinned block is gone. Prints "handler calls: N" and "worker blocks: M".
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

#include <signal.h>
#include <sys/time.h>

#include <atomic>

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
#define FAMILY_MALLOC(n) mallocx(n, 0)
#define FAMILY_REALLOC(p, n) rallocx(p, n, 0)
#define FAMILY_FREE(p) dallocx(p, 0)
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
#define FAMILY_MALLOC(n) tc_malloc(n)
#define FAMILY_REALLOC(p, n) tc_realloc(p, n)
#define FAMILY_FREE(p) tc_free(p)
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
#define FAMILY_MALLOC(n) mi_malloc(n)
#define FAMILY_REALLOC(p, n) mi_realloc(p, n)
#define FAMILY_FREE(p) mi_free(p)
#endif
#if defined(FAMILY_MALLOC)
__attribute__((noinline)) void* probe_pinned(std::size_t n) { return FAMILY_MALLOC(n); }
__attribute__((noinline)) void* probe_handler_grow(void* p, std::size_t n) { return FAMILY_REALLOC(p, n); }
__attribute__((noinline)) void* probe_reuse(std::size_t n) { return FAMILY_MALLOC(n); }
__attribute__((noinline)) void* probe_small(std::size_t n) { return FAMILY_MALLOC(n); }
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

#if defined(PROBE_LINKED) && defined(FAMILY_MALLOC)
// "handler" mode (see the top).
constexpr int kPinned = 500;
constexpr std::size_t kBig = std::size_t{1} << 20;
void* g_pinned[kPinned];
std::atomic<int> g_pinned_freed{0};
std::atomic<long> g_handler_calls{0};
std::atomic<long> g_worker_blocks{0};

void grow_and_free_a_pinned_block(int) {
  const int next = g_pinned_freed.load(std::memory_order_relaxed);
  if (next < kPinned) {
    FAMILY_FREE(probe_handler_grow(g_pinned[kPinned - 1 - next], kBig + std::size_t{64} * 1024));
    g_pinned_freed.store(next + 1, std::memory_order_release);
  }
  g_handler_calls.fetch_add(1, std::memory_order_relaxed);
}

std::atomic<int> g_workers_ready{0};

void reuse_addresses() {
  // One small block first: the thread's first event registers it with the profiler (under the
  // lock the reader keeps taking), before the timer starts.
  FAMILY_FREE(probe_small(16));
  g_workers_ready.fetch_add(1, std::memory_order_release);
  for (long i = 0; i < 20000000 && g_pinned_freed.load(std::memory_order_acquire) < kPinned; ++i) {
    void* block = probe_reuse(kBig);
    asm volatile("" : : "r"(block) : "memory");
    for (int small = 0; small < 32; ++small) {
      void* other = probe_small(16);
      asm volatile("" : : "r"(other) : "memory");
      FAMILY_FREE(other);
    }
    FAMILY_FREE(block);
    g_worker_blocks.fetch_add(1, std::memory_order_relaxed);
  }
}

int handler_mode() {
  sigset_t alarm;
  sigemptyset(&alarm);
  sigaddset(&alarm, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &alarm, nullptr);  // inherited: only the reader takes it
  for (void*& block : g_pinned) {
    block = probe_pinned(kBig);
  }
  struct sigaction action {};
  action.sa_handler = &grow_and_free_a_pinned_block;
  action.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &action, nullptr);
  std::atomic<bool> working{true};
  std::thread reader([&] {
    pthread_sigmask(SIG_UNBLOCK, &alarm, nullptr);
    while (working.load()) {
      const dhat::HeapStats stats = dhat::HeapStats::get();
      asm volatile("" : : "r"(stats.total_blocks) : "memory");
    }
    pthread_sigmask(SIG_BLOCK, &alarm, nullptr);
  });
  std::thread first(&reuse_addresses);
  std::thread second(&reuse_addresses);
  while (g_workers_ready.load(std::memory_order_acquire) < 2) {
    std::this_thread::yield();
  }
  // Every 500 us (5 ms under an emulator): a handler's move copies 1 MiB.
  const long interval_us = std::getenv("DHAT_TEST_EMULATED") != nullptr ? 5000 : 500;
  const itimerval every{{0, interval_us}, {0, interval_us}};
  setitimer(ITIMER_REAL, &every, nullptr);
  first.join();
  second.join();
  const itimerval off{};
  setitimer(ITIMER_REAL, &off, nullptr);
  working.store(false);
  reader.join();
  std::printf("handler calls: %ld\nworker blocks: %ld\n", g_handler_calls.load(), g_worker_blocks.load());
  return 0;
}
#endif

}  // namespace

int main(int argc, char** argv) {
#if defined(PROBE_LINKED) && defined(FAMILY_MALLOC)
  if (argc == 3 && std::string(argv[2]) == "handler") {
    dhat::Profiler profiler = dhat::Profiler::builder().file_name(argv[1]).build();
    return handler_mode();
  }
#endif
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
