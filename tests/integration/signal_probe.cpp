// A program whose SIGALRM handler (every 100 us) allocates, reallocates and frees, as some real programs do
// (malloc is not async-signal-safe). Linked with dhat::dhat, or switched off under dhat-run:
// signal_probe FILE [snapshots]
// Two workers allocate and free 200,000 blocks each at loop_site with SIGALRM blocked; a third
// thread, the only one that takes the signal, reads the heap's numbers in a loop and allocates a
// block at reader_site, so the handler interrupts it inside the profiler (holding its lock,
// draining the workers' events; switched off, recording its own block) and never inside glibc's
// malloc, which the plain program could not survive either. With "snapshots" (linked), the
// reader also writes a snapshot (to FILE.snapshot) every round, one before the timer starts. Prints
// "handler calls: N" and returns 0.
//
// With "reused" (signal_probe FILE reused): blocks above the mmap threshold, so that the kernel
// hands a freed block's address to the next block of its size at once, whichever thread asks.
// Main makes kPinned blocks at pinned_site first; the handler frees one per call, newest first
// (every other one after growing it by 64 KiB with realloc, which glibc does with mremap: the old
// address goes at once). Mappings go top down: the newest pinned block is the lowest above the
// workers' own, so its hole is the highest that fits and the next mapping takes it. The two
// workers allocate and free blocks of the same size at reuse_site, with small blocks at
// loop_site between them, until every pinned block is freed. A handler's free or realloc inside
// the reader's lock, if it let the address go at once, put it in a worker's next block before
// the profiler had recorded the free. Prints "handler calls: N" and "worker blocks: M".
#include <dhat/dhat.hpp>

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

extern "C" __attribute__((noinline)) void* loop_site(std::size_t n) { return std::malloc(n); }
extern "C" __attribute__((noinline)) void* handler_site(std::size_t n) { return std::malloc(n); }
extern "C" __attribute__((noinline)) void* handler_grow(void* block, std::size_t n) { return std::realloc(block, n); }
extern "C" __attribute__((noinline)) void* pinned_site(std::size_t n) { return std::malloc(n); }
extern "C" __attribute__((noinline)) void* reuse_site(std::size_t n) { return std::malloc(n); }
extern "C" __attribute__((noinline)) void* reader_site(std::size_t n) { return std::malloc(n); }

namespace {

std::atomic<long> g_handler_calls{0};

void on_alarm(int) {
  std::free(handler_grow(handler_site(24), 40));  // charged to handler_site: 2 blocks, 64 bytes
  g_handler_calls.fetch_add(1, std::memory_order_relaxed);
}

// "reused": the pinned blocks the handler frees, newest first.
constexpr int kPinned = 2000;
constexpr std::size_t kBigBlock = std::size_t{256} * 1024;
void* g_pinned[kPinned];
std::atomic<int> g_pinned_freed{0};
std::atomic<long> g_worker_blocks{0};

void free_a_pinned_block(int) {
  const int next = g_pinned_freed.load(std::memory_order_relaxed);
  if (next < kPinned) {
    void* pinned = g_pinned[kPinned - 1 - next];
    // Every other one grown first (charged to pinned_site): glibc moves a mapped block with
    // mremap, which lets its old address go at once.
    std::free(next % 2 == 0 ? pinned : handler_grow(pinned, kBigBlock + std::size_t{64} * 1024));
    g_pinned_freed.store(next + 1, std::memory_order_release);
  }
  g_handler_calls.fetch_add(1, std::memory_order_relaxed);
}

void reuse_addresses() {
  // Bounded: a timer that never lands must not hang the probe (the test then fails on numbers).
  for (long i = 0; i < 20000000 && g_pinned_freed.load(std::memory_order_acquire) < kPinned; ++i) {
    void* block = reuse_site(kBigBlock);
    asm volatile("" : : "r"(block) : "memory");
    // Small blocks between the big ones: the reader has their events to apply under its lock,
    // which keeps it inside the profiler long enough for a worker's mapping to land there.
    for (int small = 0; small < 32; ++small) {
      void* other = loop_site(16);
      asm volatile("" : : "r"(other) : "memory");
      std::free(other);
    }
    std::free(block);
    g_worker_blocks.fetch_add(1, std::memory_order_relaxed);
  }
}

void work() {
  for (int i = 0; i < 200000; ++i) {
    void* block = loop_site(16 + static_cast<std::size_t>(i % 64));
    asm volatile("" : : "r"(block) : "memory");
    std::free(block);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    return 2;
  }
  const bool snapshots = argc == 3 && std::string(argv[2]) == "snapshots";
  const bool reused = argc == 3 && std::string(argv[2]) == "reused";
  const std::string snapshot = std::string(argv[1]) + ".snapshot";
  dhat::Profiler profiler = dhat::Profiler::builder().file_name(argv[1]).build();
  sigset_t alarm;
  sigemptyset(&alarm);
  sigaddset(&alarm, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &alarm, nullptr);  // inherited by every thread started from here
  struct sigaction action {};
  action.sa_handler = reused ? &free_a_pinned_block : &on_alarm;
  if (reused) {
    mallopt(M_MMAP_THRESHOLD, 64 * 1024);  // fixed: glibc would raise it at the first free
    for (void*& block : g_pinned) {
      block = pinned_site(kBigBlock);
    }
  }
  action.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &action, nullptr);
  if (snapshots && !dhat::write_snapshot(snapshot)) {  // the writer thread starts here
    return 3;
  }
  std::atomic<bool> working{true};
  std::thread reader([&] {
    pthread_sigmask(SIG_UNBLOCK, &alarm, nullptr);
    while (working.load()) {
      const dhat::HeapStats stats = dhat::HeapStats::get();
      asm volatile("" : : "r"(stats.total_blocks) : "memory");
      std::free(reader_site(32));
      if (snapshots && !dhat::write_snapshot(snapshot)) {
        std::_Exit(3);
      }
    }
    pthread_sigmask(SIG_BLOCK, &alarm, nullptr);
  });
  // Every 100 us; under an emulator (DHAT_TEST_EMULATED, qemu-user: code runs 10-20 times slower)
  // every 1 ms, so that a handler lands as often per instruction of the program.
  const long interval_us = std::getenv("DHAT_TEST_EMULATED") != nullptr ? 1000 : 100;
  const itimerval every{{0, interval_us}, {0, interval_us}};
  setitimer(ITIMER_REAL, &every, nullptr);
  std::thread first(reused ? &reuse_addresses : &work);
  std::thread second(reused ? &reuse_addresses : &work);
  first.join();
  second.join();
  const itimerval off{};
  setitimer(ITIMER_REAL, &off, nullptr);
  working.store(false);
  reader.join();
  std::printf("handler calls: %ld\n", g_handler_calls.load());
  if (reused) {
    std::printf("worker blocks: %ld\n", g_worker_blocks.load());
  }
  return 0;
}
