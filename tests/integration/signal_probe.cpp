// A program whose SIGALRM handler (every 100 us) allocates, reallocates and frees, as some real programs do
// (malloc is not async-signal-safe). Linked with dhat::dhat:  signal_probe FILE [snapshots]
// Two workers allocate and free 200,000 blocks each at loop_site with SIGALRM blocked; a third
// thread, the only one that takes the signal, reads the heap's numbers in a loop, so the handler
// interrupts it inside the profiler (holding its lock, draining the workers' events) and never
// inside glibc's malloc, which the plain program could not survive either. With "snapshots", the
// reader also writes a snapshot (to FILE.snapshot) every round, one before the timer starts. Prints
// "handler calls: N" and returns 0.
#include <dhat/dhat.hpp>

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

namespace {

std::atomic<long> g_handler_calls{0};

void on_alarm(int) {
  std::free(handler_grow(handler_site(24), 40));  // charged to handler_site: 2 blocks, 64 bytes
  g_handler_calls.fetch_add(1, std::memory_order_relaxed);
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
  const std::string snapshot = std::string(argv[1]) + ".snapshot";
  dhat::Profiler profiler = dhat::Profiler::builder().file_name(argv[1]).build();
  sigset_t alarm;
  sigemptyset(&alarm);
  sigaddset(&alarm, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &alarm, nullptr);  // inherited by every thread started from here
  struct sigaction action {};
  action.sa_handler = &on_alarm;
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
  std::thread first(work);
  std::thread second(work);
  first.join();
  second.join();
  const itimerval off{};
  setitimer(ITIMER_REAL, &off, nullptr);
  working.store(false);
  reader.join();
  std::printf("handler calls: %ld\n", g_handler_calls.load());
  return 0;
}
