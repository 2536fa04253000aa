// The resident memory a parked thread costs: kParked threads that each made a few heap events
// (at parked_site, which the includer defines), all parked at once. Shared by the in-process
// test (test_threads.cpp) and exit_probe's "parked-threads" mode (the same under dhat-run).
#pragma once

#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

extern "C" void* parked_site(std::size_t n);

namespace dhat_test {

inline long resident_kib() {
  long pages = 0;
  long resident = 0;
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr || std::fscanf(statm, "%ld %ld", &pages, &resident) != 2) {
    resident = -1;
  }
  if (statm != nullptr) {
    std::fclose(statm);
  }
  return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

// What a parked thread may hold for the profiler, KiB: a memo page, its header page and the
// ring's first page (12 KiB measured natively). Under an emulator (DHAT_TEST_EMULATED, qemu-user)
// the reading is the emulator's own resident memory, which also grows per guest thread with the
// code that thread runs (qemu's per-thread caches of translated code: 444 KiB per plain thread),
// so the profiled threads' extra code shows there too: 11-17 KiB measured over the same 200 threads.
inline long parked_thread_allowance_kib() { return std::getenv("DHAT_TEST_EMULATED") != nullptr ? 32 : 16; }

// The growth of resident memory per parked thread, KiB.
inline long parked_thread_growth_kib() {
  constexpr int kParked = 200;
  pthread_barrier_t parked;
  pthread_barrier_init(&parked, nullptr, kParked + 1);
  pthread_barrier_t released;
  pthread_barrier_init(&released, nullptr, kParked + 1);
  std::vector<std::thread> threads;
  threads.reserve(kParked);
  std::free(parked_site(32));  // the main thread's own first events
  // One thread started, made its events and joined before the measurement: what the first
  // thread costs once (code paged in, under an emulator its translation) is not per thread.
  std::thread([] {
    for (int i = 0; i < 20; ++i) {
      std::free(parked_site(32));
    }
  }).join();
  const long before = resident_kib();
  for (int t = 0; t < kParked; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        std::free(parked_site(32));
      }
      pthread_barrier_wait(&parked);
      pthread_barrier_wait(&released);
    });
  }
  pthread_barrier_wait(&parked);
  const long growth = (resident_kib() - before) / kParked;
  pthread_barrier_wait(&released);
  for (std::thread& thread : threads) {
    thread.join();
  }
  pthread_barrier_destroy(&parked);
  pthread_barrier_destroy(&released);
  return growth;
}

}  // namespace dhat_test
