// A small program for the lifecycle tests: how it ends is chosen on the command line. Built
// linked with dhat::dhat, and switched off (exit_probe_plain) to run the same under dhat-run.
//   exit_probe exit FILE        leaks 777 bytes, then calls exit(5) with the Profiler alive
//   exit_probe return FILE      leaks 777 bytes, returns 7 from main
//   exit_probe thread-exit FILE another thread calls exit(9) while main waits
//   exit_probe _exit FILE       _exit(4): nothing is written
//   exit_probe abort FILE       abort(): nothing is written
//   exit_probe chdir FILE       changes to a new directory (FILE.elsewhere) after the start
//   exit_probe no-fds FILE      opens descriptors until none is left, then returns 7
//   exit_probe small-stacks FILE threads with 16-28 KiB stacks allocate 10 x 64 bytes each
//   exit_probe snapshots FILE   two threads allocate and write 10 snapshots each (to FILE.N),
//                               then main returns 7
//   exit_probe parked-threads FILE  prints "N KiB" (resident memory per parked thread, see
//                               tests/support/parked_threads.hpp), returns 7
//   exit_probe signal-snapshots FILE  two threads allocate and free 20,000 blocks each while
//                               main sends SIGUSR2 to the process 10 times (run it with
//                               DHAT_SNAPSHOT_SIGNAL=USR2), then returns 7
//   exit_probe blocked-signal FILE  blocks SIGALRM, sends it to the process, waits 100 ms,
//                               returns 7 (6 if its handler ran: no thread of the plain program
//                               takes it; the handler also says so on stderr)
#include <dhat/dhat.hpp>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "parked_threads.hpp"

extern "C" __attribute__((noinline)) void* probe_leak(std::size_t n) { return std::malloc(n); }
extern "C" __attribute__((noinline)) void* parked_site(std::size_t n) { return std::malloc(n); }

namespace {
std::atomic<bool> g_handler_ran{false};
void on_alarm(int) {
  g_handler_ran.store(true);
  static const char said[] = "probe: the SIGALRM handler ran\n";
  static_cast<void>(write(2, said, sizeof said - 1));
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    return 2;
  }
  dhat::Profiler profiler = dhat::Profiler::builder().file_name(argv[2]).build();
  if (std::strcmp(argv[1], "blocked-signal") == 0) {
    // Blocked once the profiler runs, in the only thread the program has: a thread the profiler
    // started before (the snapshot writer) must not take the signal either.
    sigset_t alarm;
    sigemptyset(&alarm);
    sigaddset(&alarm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alarm, nullptr);
    struct sigaction action {};
    action.sa_handler = &on_alarm;
    sigaction(SIGALRM, &action, nullptr);
    kill(getpid(), SIGALRM);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (g_handler_ran.load()) {
      return 6;
    }
  }
  void* leak = probe_leak(777);
  asm volatile("" : : "r"(leak) : "memory");
  if (std::strcmp(argv[1], "exit") == 0) {
    std::exit(5);
  }
  if (std::strcmp(argv[1], "thread-exit") == 0) {
    std::thread([] { std::exit(9); }).join();
  }
  if (std::strcmp(argv[1], "_exit") == 0) {
    _exit(4);
  }
  if (std::strcmp(argv[1], "abort") == 0) {
    std::abort();
  }
  if (std::strcmp(argv[1], "chdir") == 0) {
    const std::string elsewhere = std::string(argv[2]) + ".elsewhere";
    if (mkdir(elsewhere.c_str(), 0755) != 0 || chdir(elsewhere.c_str()) != 0) {
      return 3;
    }
  }
  if (std::strcmp(argv[1], "no-fds") == 0) {
    while (open("/dev/null", O_RDONLY) >= 0) {
    }
  }
  if (std::strcmp(argv[1], "small-stacks") == 0) {
    for (const std::size_t kib : {16, 20, 24, 28}) {
      pthread_attr_t attributes;
      pthread_attr_init(&attributes);
      pthread_attr_setstacksize(&attributes, kib << 10);
      pthread_t thread{};
      const int created = pthread_create(
          &thread, &attributes,
          [](void*) -> void* {
            for (int i = 0; i < 10; ++i) {
              std::free(probe_leak(64));
            }
            return nullptr;
          },
          nullptr);
      pthread_attr_destroy(&attributes);
      if (created != 0 || pthread_join(thread, nullptr) != 0) {
        return 3;
      }
    }
  }
  if (std::strcmp(argv[1], "parked-threads") == 0) {
    std::printf("%ld KiB\n", dhat_test::parked_thread_growth_kib());
  }
  if (std::strcmp(argv[1], "signal-snapshots") == 0) {
    std::vector<std::thread> workers;
    workers.reserve(2);
    for (int t = 0; t < 2; ++t) {
      workers.emplace_back([] {
        for (int i = 0; i < 20000; ++i) {
          std::free(probe_leak(48));
        }
      });
    }
    for (int i = 0; i < 10; ++i) {
      kill(getpid(), SIGUSR2);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (std::thread& worker : workers) {
      worker.join();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the last requested snapshot
  }
  if (std::strcmp(argv[1], "snapshots") == 0) {
    std::vector<std::thread> writers;
    writers.reserve(2);
    for (int t = 0; t < 2; ++t) {
      writers.emplace_back([t, &argv] {
        for (int i = 0; i < 10; ++i) {
          std::free(probe_leak(64));
          if (!dhat::write_snapshot(std::string(argv[2]) + "." + std::to_string(t * 10 + i))) {
            std::_Exit(3);
          }
        }
      });
    }
    for (std::thread& writer : writers) {
      writer.join();
    }
  }
  return 7;
}
