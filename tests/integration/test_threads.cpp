// Threads allocating and freeing concurrently: exact totals, nothing lost, no deadlock; and
// threads still allocating while the profile is written pass through safely.
#include <gtest/gtest.h>

#include <limits.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "parked_threads.hpp"
#include "profiled_run.hpp"

using dhat_test::keep;
using dhat_test::profile_of;

namespace {

constexpr int kThreads = 4;
constexpr int kIterations = 20000;

extern "C" __attribute__((noinline)) void* worker_site(std::size_t n) { return std::malloc(n); }
extern "C" __attribute__((noinline)) int* worker_new_site(int value) { return new int(value); }
extern "C" __attribute__((noinline)) void* recent_site(std::size_t n) { return std::malloc(n); }
extern "C" __attribute__((noinline)) void* temporary_site(std::size_t n) { return std::malloc(n); }
extern "C" __attribute__((noinline)) void* outlived_site(std::size_t n) { return std::malloc(n); }
extern "C" __attribute__((noinline)) void* grown_site(std::size_t n) { return std::malloc(n); }
extern "C" __attribute__((noinline)) void* handed_over_site(std::size_t n) { return std::malloc(n); }

// Every thread allocates sizes 16..(16+6) in turn, frees all but every 1000th block, and
// keeps those until the end.
void worker(std::vector<void*>* kept) {
  for (int i = 0; i < kIterations; ++i) {
    void* block = worker_site(16 + static_cast<std::size_t>(i % 7));
    int* number = worker_new_site(i);
    keep(block);
    delete number;
    if (i % 1000 == 0) {
      kept->push_back(block);
    } else {
      std::free(block);
    }
  }
}

// Temporary blocks, heaptrack's definition: freed by the thread that allocated them before that
// thread allocated anything else. Per round on each of 1 + kThreads threads: a block freed at
// once (temporary); a block outlived by a later one (not: freed after the next allocation); a
// block grown by realloc and freed (temporary: the realloc's result was the thread's last); a
// free of a block the profiler never saw in between changes nothing; a block handed to another
// thread and freed there (not temporary).
constexpr int kRounds = 500;
void temporary_rounds(std::vector<void*>* handed) {
  for (int i = 0; i < kRounds; ++i) {
    void* now = temporary_site(24);
    keep(now);
    std::free(now);
    void* outlived = outlived_site(40);
    void* after = temporary_site(24);
    keep(outlived);
    keep(after);
    std::free(after);
    std::free(outlived);
    void* grown = std::realloc(grown_site(8), 64);
    keep(grown);
    std::free(nullptr);
    std::free(grown);
    (*handed)[static_cast<std::size_t>(i)] = handed_over_site(16);
  }
}

TEST(Threads, TemporaryBlocksAreCountedExactlyPerSiteAndThread) {
  std::vector<std::vector<void*>> handed(kThreads + 1, std::vector<void*>(kRounds));
  auto profile = profile_of([&] {
    temporary_rounds(&handed[0]);
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 1; t <= kThreads; ++t) {
      threads.emplace_back(temporary_rounds, &handed[static_cast<std::size_t>(t)]);
    }
    for (auto& thread : threads) {
      thread.join();
    }
    std::thread freer([&handed] {  // every handed-over block freed by a thread that made none
      for (auto& blocks : handed) {
        for (void* block : blocks) {
          std::free(block);
        }
      }
    });
    freer.join();
  });
  constexpr std::uint64_t kPerSite = static_cast<std::uint64_t>(kThreads + 1) * kRounds;
  EXPECT_EQ(profile.at("temporary_site").tbk, 2 * kPerSite);
  EXPECT_EQ(profile.at("temporary_site").tmpbk, 2 * kPerSite);
  EXPECT_EQ(profile.at("outlived_site").tmpbk, 0U);
  EXPECT_EQ(profile.at("grown_site").tbk, 2 * kPerSite);  // the allocation and the realloc
  EXPECT_EQ(profile.at("grown_site").tmpbk, kPerSite);
  EXPECT_EQ(profile.at("handed_over_site").tbk, kPerSite);
  EXPECT_EQ(profile.at("handed_over_site").tmpbk, 0U);
  EXPECT_EQ(profile.at("handed_over_site").ebk, 0U);
}

TEST(Threads, ConcurrentAllocationsGiveExactTotals) {
  std::vector<std::vector<void*>> kept(kThreads);
  for (auto& k : kept) {
    k.reserve(kIterations / 1000 + 1);  // no allocation by the bookkeeping inside the run
  }
  auto profile = profile_of([&] {
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back(worker, &kept[t]);
    }
    for (auto& thread : threads) {
      thread.join();
    }
  });
  std::uint64_t bytes_per_thread = 0;
  std::uint64_t kept_bytes_per_thread = 0;
  for (int i = 0; i < kIterations; ++i) {
    bytes_per_thread += 16 + static_cast<std::uint64_t>(i % 7);
    if (i % 1000 == 0) {
      kept_bytes_per_thread += 16 + static_cast<std::uint64_t>(i % 7);
    }
  }
  const auto site = profile.at("worker_site");
  EXPECT_EQ(site.tbk, static_cast<std::uint64_t>(kThreads) * kIterations);
  EXPECT_EQ(site.tb, kThreads * bytes_per_thread);
  EXPECT_EQ(site.ebk, static_cast<std::uint64_t>(kThreads) * (kIterations / 1000));
  EXPECT_EQ(site.eb, kThreads * kept_bytes_per_thread);
  const auto new_site = profile.at("worker_new_site");
  EXPECT_EQ(new_site.tbk, static_cast<std::uint64_t>(kThreads) * kIterations);
  EXPECT_EQ(new_site.tb, static_cast<std::uint64_t>(kThreads) * kIterations * sizeof(int));
  EXPECT_EQ(new_site.eb, 0U);
  // Each int is freed before its thread allocates again: temporary. Each block is not (the int
  // came after it).
  EXPECT_EQ(new_site.tmpbk, static_cast<std::uint64_t>(kThreads) * kIterations);
  EXPECT_EQ(site.tmpbk, 0U);
  // Frames below the thread's entry (start_thread, clone3) are trimmed like those below main.
  for (const auto& pp : profile.allocated_in("worker_site")) {
    const std::string outermost = profile.frame(pp, pp["fs"].size() - 1);
    EXPECT_EQ(outermost.find("clone"), std::string::npos) << outermost;
    EXPECT_EQ(outermost.find("start_thread"), std::string::npos) << outermost;
  }
  for (auto& k : kept) {
    for (void* block : k) {
      std::free(block);
    }
  }
}

// With a heap of many blocks, a single-threaded program's events are applied a few events late
// (recorder.cpp). A thread started right after some allocations frees those blocks: the late
// allocations must be applied before its frees, or the blocks would stay live to the end.
TEST(Threads, BlocksAllocatedJustBeforeTheFirstThreadAreFreedByIt) {
  constexpr std::uint64_t kHeld = 150000;  // a live table of well over 2 MiB
  std::vector<void*> held;
  held.reserve(kHeld);
  auto profile = profile_of([&] {
    for (std::uint64_t i = 0; i < kHeld; ++i) {
      held.push_back(worker_site(16));
    }
    void* recent[4];
    for (void*& block : recent) {
      block = recent_site(1000);
    }
    std::thread freer([&recent] {
      for (void* block : recent) {
        std::free(block);
      }
    });
    freer.join();
  });
  const auto recent = profile.at("recent_site");
  EXPECT_EQ(recent.tbk, 4U);
  EXPECT_EQ(recent.tb, 4000U);
  EXPECT_EQ(recent.ebk, 0U);
  EXPECT_EQ(recent.eb, 0U);
  const auto site = profile.at("worker_site");
  EXPECT_EQ(site.ebk, kHeld);
  EXPECT_EQ(site.eb, 16 * kHeld);
  for (void* block : held) {
    std::free(block);
  }
}

TEST(Threads, AllocatingWhileTheProfileIsWrittenIsSafe) {
  std::atomic<bool> stop{false};
  std::atomic<long> rounds{0};
  std::vector<std::thread> threads;
  {
    dhat::Profiler profiler = dhat::Profiler::builder().file_name(dhat_test::file_for_current_test()).build();
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&] {
        std::vector<void*> held;
        while (!stop.load()) {
          held.push_back(worker_site(32));
          if (held.size() > 64) {
            for (void* block : held) {
              std::free(block);
            }
            held.clear();
          }
          rounds.fetch_add(1);
        }
        for (void* block : held) {
          std::free(block);
        }
      });
    }
    while (rounds.load() < 10000) {
      std::this_thread::yield();
    }
  }  // the profile is written while both threads keep allocating and freeing
  const long after_write = rounds.load();
  while (rounds.load() < after_write + 10000) {
    std::this_thread::yield();
  }
  stop.store(true);
  for (auto& thread : threads) {
    thread.join();
  }
  auto profile = dhat_test::Profile::load(dhat_test::file_for_current_test());
  const auto site = profile.at("worker_site");
  EXPECT_GT(site.tbk, 0U);
  EXPECT_LE(site.eb, site.tb);
}

}  // namespace

namespace {
extern "C" __attribute__((noinline)) void* handed_site(std::size_t n) { return std::malloc(n); }
}  // namespace

// One thread allocates blocks and hands them through a lock-free ring to another, which frees
// them as soon as it sees them. The free's stamp must come after the allocation's: a stamp read
// ahead of the load that fetched the address (rdtsc is not ordered with loads) would have the
// free applied first, miss, and leave the block live to the end. Without the fence before the
// stamp (thread_buffer.hpp), a few blocks per million were left live here.
TEST(Threads, BlocksHandedThroughALockFreeRingAreFreedByTheReader) {
  constexpr std::size_t kSlots = 64;
  constexpr std::uint64_t kBlocks = 2000000;
  constexpr std::size_t kBytes = 24;
  std::vector<std::atomic<void*>> slots(kSlots);
  auto profile = profile_of([&] {
    std::thread reader([&] {
      std::size_t i = 0;
      for (std::uint64_t got = 0; got < kBlocks;) {
        void* block = slots[i].load(std::memory_order_acquire);
        if (block != nullptr) {
          slots[i].store(nullptr, std::memory_order_relaxed);
          std::free(block);
          ++got;
          i = (i + 1) % kSlots;
        }
      }
    });
    std::size_t i = 0;
    for (std::uint64_t n = 0; n < kBlocks; ++n) {
      void* block = handed_site(kBytes);
      while (slots[i].load(std::memory_order_acquire) != nullptr) {
      }
      slots[i].store(block, std::memory_order_release);
      i = (i + 1) % kSlots;
    }
    reader.join();
  });
  const auto site = profile.at("handed_site");
  EXPECT_EQ(site.tbk, kBlocks);
  EXPECT_EQ(site.tb, kBlocks * kBytes);
  EXPECT_EQ(site.ebk, 0U);
  EXPECT_EQ(site.eb, 0U);
  // At most the ring's blocks, the one the writer holds and the one the reader is freeing.
  EXPECT_LE(site.gbk, kSlots + 2);
  EXPECT_EQ(site.gb, site.gbk * kBytes);
}

namespace {

extern "C" __attribute__((noinline)) void* small_stack_site(std::size_t n) { return std::malloc(n); }

void* small_stack_thread(void* bytes) {
  for (int i = 0; i < 100; ++i) {
    std::free(small_stack_site(reinterpret_cast<std::uintptr_t>(bytes)));
  }
  return nullptr;
}

// Threads with the smallest stacks a program may ask for start and are recorded exactly. The
// profiler's static TLS is carved out of every thread's stack: at 18,000 bytes, threads with
// 16-20 KiB stacks failed to start (EINVAL) and 24-28 KiB ones overflowed (SIGSEGV). The
// smallest is PTHREAD_STACK_MIN: 16 KiB on x86-64, 128 KiB on AArch64.
TEST(Threads, ThreadsWithTheSmallestStacksStartAndAreRecorded) {
  const auto minimum = static_cast<std::size_t>(PTHREAD_STACK_MIN);
  const std::size_t sizes[] = {minimum, minimum + (std::size_t{4} << 10), minimum + (std::size_t{8} << 10),
                               minimum + (std::size_t{12} << 10)};
  int started = 0;
  auto profile = profile_of([&] {
    for (std::size_t i = 0; i < std::size(sizes); ++i) {
      pthread_attr_t attributes;
      pthread_attr_init(&attributes);
      ASSERT_EQ(pthread_attr_setstacksize(&attributes, sizes[i]), 0);
      pthread_t thread{};
      const int created =
          pthread_create(&thread, &attributes, &small_stack_thread, reinterpret_cast<void*>(std::uintptr_t{10 + i}));
      pthread_attr_destroy(&attributes);
      EXPECT_EQ(created, 0) << "a thread with a " << sizes[i] << "-byte stack: " << std::strerror(created);
      if (created == 0) {
        ++started;
        pthread_join(thread, nullptr);
      }
    }
  });
  ASSERT_EQ(started, 4);
  const auto site = profile.at("small_stack_site");
  EXPECT_EQ(site.tbk, 400U);
  EXPECT_EQ(site.tb, 100U * (10 + 11 + 12 + 13));
  EXPECT_EQ(site.eb, 0U);
}

}  // namespace

namespace {

extern "C" __attribute__((noinline)) void* parked_site(std::size_t n) { return std::malloc(n); }

// Writes the growth of resident memory per parked thread (KiB) to `out`, and exits.
[[noreturn]] void measure_parked_threads(int out) {
  const long growth = dhat_test::parked_thread_growth_kib();
  const ssize_t written = write(out, &growth, sizeof growth);
  _exit(written == sizeof growth ? 0 : 1);
}

// In a child process: the growth of resident memory while `kThreads` threads, each having made a
// few heap events, are parked at once, profiled or not. Returns KiB, or -1 on failure.
long parked_threads_growth_kib(bool profiled, const std::string& path) {
  int pipe_ends[2];
  if (pipe(pipe_ends) != 0) {
    return -1;
  }
  const pid_t child = fork();
  if (child == 0) {
    if (profiled) {
      dhat::Profiler profiler = dhat::Profiler::builder().file_name(path).build();
      measure_parked_threads(pipe_ends[1]);  // exits: no profile, only the memory is measured
    }
    measure_parked_threads(pipe_ends[1]);
  }
  close(pipe_ends[1]);
  long growth = -1;
  if (read(pipe_ends[0], &growth, sizeof growth) != sizeof growth) {
    growth = -1;
  }
  close(pipe_ends[0]);
  int status = 0;
  waitpid(child, &status, 0);
  return growth;
}

}  // namespace

// An idle thread that made a few events holds a few KiB for the profiler, not a whole event ring
// (was about 292 KiB of RSS per live thread: 1,000 parked threads, 11 MB -> 304 MB).
TEST(Threads, AParkedThreadHoldsAFewKibForTheProfiler) {
  const long plain = parked_threads_growth_kib(false, "");
  const long profiled = parked_threads_growth_kib(true, dhat_test::file_for_current_test());
  ASSERT_GE(plain, 0);
  ASSERT_GE(profiled, 0);
  std::printf("resident memory per parked thread: %ld KiB plain, %ld KiB profiled\n", plain, profiled);
  EXPECT_LE(profiled - plain, dhat_test::parked_thread_allowance_kib())
      << "KiB per parked thread held for the profiler";
}
