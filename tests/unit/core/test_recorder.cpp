// The recorder driven directly (no hooks, fake block addresses): run phases, realloc tickets,
// and concurrent recording from several threads. Runs under TSan in CI.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/time.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "core/recorder.hpp"
#include "core/recorder_state.hpp"
#include "core/reentrancy_guard.hpp"
#include "core/section_counters.hpp"
#include "internal_alloc_plain.hpp"

using namespace dhat::core;

namespace {

void* fake_block(std::uintptr_t n) { return reinterpret_cast<void*>(0x100000 + n * 16); }

class RecorderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(start_recording(RecorderSettings{8})); }
  void TearDown() override {
    stop_recording();
    release_recording();
  }
};

TEST_F(RecorderTest, SecondStartIsRefusedUntilReleased) {
  EXPECT_FALSE(start_recording(RecorderSettings{8}));
  ASSERT_TRUE(stop_recording());
  EXPECT_FALSE(start_recording(RecorderSettings{8}));  // stopped but not released
  release_recording();
  EXPECT_TRUE(start_recording(RecorderSettings{8}));
}

TEST_F(RecorderTest, EventsOutsideARunAreIgnored) {
  record_alloc(fake_block(1), 100);
  ASSERT_TRUE(stop_recording());
  record_alloc(fake_block(2), 1000);  // after stop: ignored
  record_free(fake_block(1));
  GlobalCounters frozen;
  ASSERT_TRUE(read_state([](const HeapModel& model, const StackTable&, const Timeline&, const RssTimeline&,
                            std::uint64_t, void* out) { *static_cast<GlobalCounters*>(out) = model.global(); },
                         &frozen));
  EXPECT_EQ(frozen.total_bytes, 100U);
  EXPECT_EQ(frozen.curr_bytes, 100U);
}

TEST_F(RecorderTest, AdHocRunRecordsEventsNotTheHeap) {
  ASSERT_TRUE(stop_recording());
  release_recording();
  ASSERT_TRUE(start_recording(RecorderSettings{8, true}));
  record_alloc(fake_block(1), 100);  // the heap is not recorded in an ad hoc run
  record_ad_hoc_event(7);
  record_ad_hoc_event(5);
  const GlobalCounters c = current_counters();
  EXPECT_EQ(c.total_blocks, 2U);
  EXPECT_EQ(c.total_bytes, 12U);
  EXPECT_EQ(c.curr_bytes, 0U);
  EXPECT_TRUE(is_ad_hoc_run());
}

TEST_F(RecorderTest, WatermarksFollowTheLiveBytesOfTheProcess) {
  record_alloc(fake_block(1), 100);
  std::uint64_t live_at_open = 0;
  const int slot = open_watermark(&live_at_open);
  ASSERT_GE(slot, 0);
  EXPECT_EQ(live_at_open, 100U);
  record_alloc(fake_block(2), 50);  // live 150
  record_free(fake_block(1));       // live 50
  record_alloc(fake_block(3), 70);  // live 120
  EXPECT_EQ(watermark_peak(slot), 150U);
  close_watermark(slot);
  record_alloc(fake_block(4), 1000);
  EXPECT_EQ(watermark_peak(slot), 150U);  // closed: no longer raised
  EXPECT_EQ(this_thread_counters().blocks >= 4, true);
}

TEST_F(RecorderTest, ReallocTicketsMoveTheBlock) {
  record_alloc(fake_block(1), 100);
  const ReallocTicket grow = realloc_detach(fake_block(1));
  ASSERT_TRUE(grow.known);
  realloc_attach(grow, fake_block(1), fake_block(2), 300);
  const ReallocTicket failed = realloc_detach(fake_block(2));
  realloc_attach(failed, fake_block(2), nullptr, 1U << 30);  // realloc failed: block stays
  const ReallocTicket unknown = realloc_detach(fake_block(99));
  EXPECT_FALSE(unknown.known);
  realloc_attach(unknown, fake_block(99), fake_block(3), 50);  // a fresh allocation
  const GlobalCounters now = current_counters();
  EXPECT_EQ(now.total_bytes, 100U + 300U + 50U);
  EXPECT_EQ(now.total_blocks, 3U);
  EXPECT_EQ(now.curr_bytes, 350U);
  EXPECT_EQ(now.curr_blocks, 2U);
  record_free(fake_block(2));
  record_free(fake_block(2));  // a double report of the same free changes nothing
  EXPECT_EQ(current_counters().curr_bytes, 50U);
}

TEST_F(RecorderTest, ConcurrentThreadsKeepExactCounts) {
  constexpr int kThreads = 4;
  constexpr std::uintptr_t kPerThread = 20000;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (std::uintptr_t i = 0; i < kPerThread; ++i) {
        void* block = fake_block(static_cast<std::uintptr_t>(t) * kPerThread + i);
        record_alloc(block, 8 + i % 5);
        if (i % 10 != 0) {
          record_free(block);
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  std::uint64_t bytes = 0, kept = 0;
  for (std::uintptr_t i = 0; i < kPerThread; ++i) {
    bytes += 8 + i % 5;
    kept += i % 10 == 0 ? 8 + i % 5 : 0;
  }
  const GlobalCounters c = current_counters();
  EXPECT_EQ(c.total_blocks, kThreads * kPerThread);
  EXPECT_EQ(c.total_bytes, kThreads * bytes);
  EXPECT_EQ(c.curr_bytes, kThreads * kept);
  EXPECT_EQ(c.curr_blocks, kThreads * kPerThread / 10);
}

// A signal handler that allocates and frees while this thread records its own events: wherever
// the signal lands (the stack walk, interning, publishing, the lock), the handler's events are
// held and recorded when the interrupted call returns. A ReentrancyGuard over the walk used to
// pass them through unrecorded (70 of 420 handler calls recorded in one run).
std::atomic<std::uintptr_t> g_handler_calls{0};

void allocate_in_handler(int) {
  const int saved_errno = errno;
  const std::uintptr_t n = g_handler_calls.fetch_add(1, std::memory_order_relaxed);
  void* block = fake_block(1000000 + n);
  record_alloc(block, 24);
  record_free(block);
  errno = saved_errno;
}

__attribute__((noinline)) void record_with_frame(void* block, std::size_t bytes) {
  record_alloc(block, bytes, DHAT_ENTRY_FRAME());  // the memo's path, as the hooks take
}

TEST_F(RecorderTest, ASignalHandlersEventsInsideTheRecorderAreAllRecorded) {
#if defined(__SANITIZE_THREAD__)
  // TSan defers a signal's handler to points of its own choosing, so the interruptions this test
  // is about are not the ones it gets, and it reports the handler's allocation (the unit tests'
  // internal memory is malloc) as a signal-unsafe call. The ASan and plain builds run it.
  GTEST_SKIP() << "ThreadSanitizer defers signal handlers and flags allocating ones";
#endif
  // Warmed up first: a thread's first events register its memo and buffer (pthread_setspecific,
  // which may allocate, inside a ReentrancyGuard); a handler that lands there (once per thread)
  // is passed through (README: Known limits). Two blocks of each kind, freed.
  for (std::uintptr_t i = 0; i < 2; ++i) {
    record_alloc(fake_block(2000000 + i), 16);
    record_free(fake_block(2000000 + i));
    record_with_frame(fake_block(2000002 + i), 16);
    record_free(fake_block(2000002 + i));
  }
  constexpr std::uintptr_t kWarmUp = 4;
  g_handler_calls.store(0);
  struct sigaction action {};
  struct sigaction before {};
  action.sa_handler = &allocate_in_handler;
  action.sa_flags = SA_RESTART;
  ASSERT_EQ(sigaction(SIGALRM, &action, &before), 0);
  const itimerval every_100us{{0, 100}, {0, 100}};
  ASSERT_EQ(setitimer(ITIMER_REAL, &every_100us, nullptr), 0);
  constexpr std::uintptr_t kLoop = 300000;
  for (std::uintptr_t i = 0; i < kLoop; ++i) {
    void* block = fake_block(i % 1000);
    if (i % 2 == 0) {
      record_alloc(block, 16);
    } else {
      record_with_frame(block, 16);
    }
    record_free(block);
  }
  const itimerval off{};
  setitimer(ITIMER_REAL, &off, nullptr);
  sigaction(SIGALRM, &before, nullptr);
  const std::uintptr_t calls = g_handler_calls.load();
  const GlobalCounters c = current_counters();
  EXPECT_EQ(c.total_blocks, kWarmUp + kLoop + calls) << calls << " handler calls";
  EXPECT_EQ(c.total_bytes, (kWarmUp + kLoop) * 16 + calls * 24);
  EXPECT_EQ(c.curr_blocks, 0U);
  EXPECT_EQ(c.curr_bytes, 0U);
  EXPECT_EQ(unrecorded_handler_events(), 0U);
  EXPECT_GT(calls, 0U);
}

// A handler's events held while its thread was marked outside any entry point (the internal
// allocator's lock marks a thread and records nothing, so it replays nothing) are older than the
// thread's next event and must be recorded before it. The "handler" is called here while the mark
// is set, as the signal would run it, and again outside; its addresses come back at once, as
// malloc's do. Replayed after the next event (at its end), the held allocation was added over
// the live block at the same address, which then stayed live forever (24 bytes at t-end in 1 of
// about 40 runs of the signal probe with snapshots), and the realloc counted as a fresh block.
// Once on this thread, once on a new one (events buffered, if this machine buffers them).
TEST_F(RecorderTest, HeldEventsAreRecordedBeforeTheThreadsNextEvent) {
  const auto handler = [](std::uintptr_t base) {
    record_alloc(fake_block(base), 24);
    const ReallocTicket grow = realloc_detach(fake_block(base));
    realloc_attach(grow, fake_block(base), fake_block(base + 1), 40);
    record_free(fake_block(base + 1));
  };
  const auto interrupted_then_not = [&handler](std::uintptr_t base) {
    {
      const RecorderMark marked;  // inside the profiler's critical code, in no entry point
      handler(base);
    }
    handler(base);  // the next signal, outside: the same addresses
  };
  interrupted_then_not(10);
  std::thread other(interrupted_then_not, 20);
  other.join();
  const GlobalCounters c = current_counters();
  EXPECT_EQ(c.total_blocks, 2 * 4U);
  EXPECT_EQ(c.total_bytes, 2 * 2 * (24U + 40U));
  EXPECT_EQ(c.curr_blocks, 0U);
  EXPECT_EQ(c.curr_bytes, 0U);
  EXPECT_EQ(unrecorded_handler_events(), 0U);
}

// A handler's free held inside the recorder: the hook must not free the block (true), and the
// block is handed back through `later`, with its words, once the free is recorded and with every
// signal blocked. Until then no allocation (another thread's, or the realloc the thread was in the
// middle of) can be handed its address and be taken for it. Frees outside the recorder, and the
// profiler's own inside it, are never held: the caller frees them.
struct Released {
  int calls = 0;
  std::uintptr_t block = 0;
  std::uintptr_t words[3] = {};
  bool signals_blocked = false;
};
Released g_released;

TEST_F(RecorderTest, AHeldFreesBlockIsHandedBackOnlyOnceTheFreeIsRecorded) {
  g_released = Released{};
  record_alloc(fake_block(40), 24);
  const DeferredRelease later{[](void* block, const DeferredRelease& how) noexcept {
                                ++g_released.calls;
                                g_released.block = reinterpret_cast<std::uintptr_t>(block);
                                g_released.words[0] = how.function;
                                g_released.words[1] = how.arg1;
                                g_released.words[2] = how.arg2;
                                sigset_t now;
                                pthread_sigmask(SIG_BLOCK, nullptr, &now);
                                g_released.signals_blocked =
                                    sigismember(&now, SIGALRM) == 1 && sigismember(&now, SIGINT) == 1;
                              },
                              7, 8, 9};
  {
    const RecorderMark marked;  // the thread inside the recorder: this free is a handler's
    EXPECT_TRUE(record_free_before_release(fake_block(40), later));
  }
  EXPECT_EQ(g_released.calls, 0) << "handed back before its free was recorded";
  EXPECT_EQ(current_counters().curr_bytes, 0U);  // a read replays what the thread holds first
  EXPECT_EQ(g_released.calls, 1);
  EXPECT_EQ(g_released.block, reinterpret_cast<std::uintptr_t>(fake_block(40)));
  EXPECT_EQ(g_released.words[0], 7U);
  EXPECT_EQ(g_released.words[1], 8U);
  EXPECT_EQ(g_released.words[2], 9U);
  EXPECT_TRUE(g_released.signals_blocked);
  sigset_t after;
  pthread_sigmask(SIG_BLOCK, nullptr, &after);
  EXPECT_EQ(sigismember(&after, SIGINT), 0) << "the thread's mask is restored";

  record_alloc(fake_block(41), 32);
  EXPECT_FALSE(record_free_before_release(fake_block(41), later));  // outside: recorded, freed by the caller
  {
    const RecorderMark marked;
    const ReentrancyGuard profilers_own;
    EXPECT_FALSE(record_free_before_release(fake_block(42), later));
  }
  EXPECT_EQ(current_counters().curr_bytes, 0U);
  EXPECT_EQ(g_released.calls, 1);
}

// Held events the thread has not replayed when the run stops (or when the numbers are read) are
// part of the run: replayed only at the stop's end, they came after it and were dropped.
TEST_F(RecorderTest, HeldEventsPendingAtAReadOrTheStopArePartOfTheRun) {
  {
    const RecorderMark marked;
    record_alloc(fake_block(30), 24);
  }
  EXPECT_EQ(current_counters().curr_bytes, 24U);
  {
    const RecorderMark marked;
    record_alloc(fake_block(31), 40);
  }
  ASSERT_TRUE(stop_recording());
  GlobalCounters frozen;
  ASSERT_TRUE(read_state([](const HeapModel& model, const StackTable&, const Timeline&, const RssTimeline&,
                            std::uint64_t, void* out) { *static_cast<GlobalCounters*>(out) = model.global(); },
                         &frozen));
  EXPECT_EQ(frozen.total_blocks, 2U);
  EXPECT_EQ(frozen.curr_bytes, 24U + 40U);
}

// Two threads pass blocks back and forth: each block is allocated by one thread and freed by
// the other, and the same addresses come back again and again, as they do with malloc. Every
// free must be applied after its allocation and before the address's next allocation, or blocks
// would stay "live" (or vanish) in the totals. Run with and without per-thread buffers.
class HandOffTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    RecorderSettings settings{8};
    settings.thread_buffers = GetParam();
    ASSERT_TRUE(start_recording(settings));
  }
  void TearDown() override {
    stop_recording();
    release_recording();
  }
};

TEST_P(HandOffTest, BlocksFreedByTheOtherThreadAtReusedAddressesBalanceExactly) {
  if (GetParam() && !counter_orders_hand_offs()) {
    GTEST_SKIP() << "this processor's counter is too coarse to order threads' events: they take the lock "
                    "(the Locked variant covers it)";
  }
  constexpr std::uintptr_t kRounds = 20000;
  constexpr std::uintptr_t kAddresses = 7;
  std::atomic<std::uintptr_t> handed{0};  // the round whose block the consumer may free next
  std::atomic<std::uintptr_t> freed{0};   // rounds whose block the consumer has freed
  std::thread consumer([&] {
    for (std::uintptr_t round = 1; round <= kRounds; ++round) {
      while (handed.load(std::memory_order_acquire) < round) {
      }
      record_free(fake_block(round % kAddresses));
      freed.store(round, std::memory_order_release);
    }
  });
  std::thread producer([&] {
    for (std::uintptr_t round = 1; round <= kRounds; ++round) {
      // The address is free again only once the consumer freed it (like malloc reusing it).
      while (round > kAddresses && freed.load(std::memory_order_acquire) < round - kAddresses) {
      }
      record_alloc(fake_block(round % kAddresses), 10 + round % 3);
      handed.store(round, std::memory_order_release);
    }
  });
  producer.join();
  consumer.join();
  std::uint64_t bytes = 0;
  for (std::uintptr_t round = 1; round <= kRounds; ++round) {
    bytes += 10 + round % 3;
  }
  const GlobalCounters c = current_counters();
  EXPECT_EQ(c.total_blocks, kRounds);
  EXPECT_EQ(c.total_bytes, bytes);
  EXPECT_EQ(c.curr_blocks, 0U);
  EXPECT_EQ(c.curr_bytes, 0U);
  EXPECT_LE(c.max_blocks, kAddresses);  // never more live than addresses in use
  EXPECT_GE(c.max_blocks, 1U);
}

// A thread's own counters include its buffered events as soon as it asks for them.
TEST_P(HandOffTest, ThisThreadsCountersAreExactInsideAThread) {
  ThreadHeapCounters before{}, after{};
  std::thread worker([&] {
    before = this_thread_counters();
    for (std::uintptr_t i = 0; i < 5000; ++i) {
      record_alloc(fake_block(50000 + i), 32);
      if (i % 2 == 0) {
        record_free(fake_block(50000 + i));
      }
    }
    after = this_thread_counters();
  });
  worker.join();
  EXPECT_EQ(after.blocks - before.blocks, 5000U);
  EXPECT_EQ(after.bytes - before.bytes, 5000U * 32U);
  EXPECT_EQ(after.live_bytes - before.live_bytes, 2500 * 32);
  EXPECT_EQ(after.peak_live_bytes - before.live_bytes, 2500 * 32);
  EXPECT_EQ(current_counters().curr_blocks, 2500U);
}

INSTANTIATE_TEST_SUITE_P(Recorder, HandOffTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("Buffered") : std::string("Locked");
                         });

// When the profiler's own memory runs out, a block it cannot put into the live table is counted
// as dropped and leaves the model with it, so that the totals stay consistent and every block
// it did keep still balances; no block it accepted is lost later. Each route an event can take:
// the single thread, a thread with buffers, a thread taking the lock.
enum class Route { single_thread, buffered_thread, locked_thread };

class OutOfMemoryTest : public ::testing::TestWithParam<Route> {
 protected:
  void SetUp() override {
    RecorderSettings settings{8};
    settings.thread_buffers = GetParam() == Route::buffered_thread;
    ASSERT_TRUE(start_recording(settings));
  }
  void TearDown() override {
    fail_internal_allocations_for_tests(false);
    stop_recording();
    release_recording();
  }
  template <typename Body>
  void on_route(Body body) {
    if (GetParam() == Route::single_thread) {
      body();
    } else {
      std::thread thread(body);
      thread.join();
    }
  }
};

// Eight blocks fit the live table's queue of recent inserts without any table memory; the
// ninth insert needs the table, which cannot be allocated: that insert is refused.
constexpr std::uintptr_t kQueued = 8;

TEST_P(OutOfMemoryTest, ARefusedAllocationIsDroppedAndTheBlocksBeforeItStillBalance) {
  on_route([] {
    for (std::uintptr_t i = 0; i <= kQueued; ++i) {
      if (i == kQueued) {
        current_counters();  // everything so far applied while memory lasts
        fail_internal_allocations_for_tests(true);
      }
      record_alloc(fake_block(i), 100);
    }
    const GlobalCounters c = current_counters();
    fail_internal_allocations_for_tests(false);
    EXPECT_EQ(dropped_events(), 1U);
    EXPECT_EQ(c.total_blocks, kQueued);
    EXPECT_EQ(c.curr_blocks, kQueued);
    EXPECT_EQ(c.curr_bytes, kQueued * 100);
    for (std::uintptr_t i = 0; i <= kQueued; ++i) {
      record_free(fake_block(i));  // the refused block's free changes nothing
    }
    EXPECT_EQ(current_counters().curr_blocks, 0U);
    EXPECT_EQ(current_counters().curr_bytes, 0U);
  });
}

TEST_P(OutOfMemoryTest, ABlockAFailedReallocCannotPutBackIsDroppedAndLeavesTheModel) {
  on_route([] {
    for (std::uintptr_t i = 0; i < kQueued; ++i) {
      record_alloc(fake_block(i), 100);
    }
    current_counters();  // applied while memory lasts
    const ReallocTicket ticket = realloc_detach(fake_block(5));
    fail_internal_allocations_for_tests(true);
    realloc_attach(ticket, fake_block(5), nullptr, 1U << 30);  // realloc failed: the block goes back
    const GlobalCounters c = current_counters();
    fail_internal_allocations_for_tests(false);
    EXPECT_EQ(dropped_events(), 1U);
    EXPECT_EQ(c.total_blocks, kQueued);
    EXPECT_EQ(c.curr_blocks, kQueued - 1);
    EXPECT_EQ(c.curr_bytes, (kQueued - 1) * 100);
    for (std::uintptr_t i = 0; i < kQueued; ++i) {
      record_free(fake_block(i));
    }
    EXPECT_EQ(current_counters().curr_blocks, 0U);
    EXPECT_EQ(current_counters().curr_bytes, 0U);
  });
}

// The profiler's own reallocs (a snapshot writer's, the symbolizer's at dlclose: code running
// inside the reentrancy guard) are not the program's: they change nothing and are not counted as
// lost. Buffered, the new block's site could not be captured inside the guard, and each such
// realloc was counted as a dropped event ("N events were not recorded (out of memory)" with
// memory to spare).
TEST_P(OutOfMemoryTest, TheProfilersOwnReallocsAreNeitherRecordedNorCountedAsDropped) {
  on_route([] {
    record_alloc(fake_block(1), 100);
    {
      ReentrancyGuard inside_the_profiler;
      for (std::uintptr_t i = 0; i < 50; ++i) {
        const ReallocTicket ticket = realloc_detach(fake_block(1000 + i));
        realloc_attach(ticket, fake_block(1000 + i), fake_block(2000 + i), 64);
      }
    }
    const GlobalCounters c = current_counters();
    EXPECT_EQ(dropped_events(), 0U);
    EXPECT_EQ(c.total_blocks, 1U);
    EXPECT_EQ(c.curr_bytes, 100U);
    record_free(fake_block(1));
    EXPECT_EQ(current_counters().curr_blocks, 0U);
  });
}

INSTANTIATE_TEST_SUITE_P(Recorder, OutOfMemoryTest,
                         ::testing::Values(Route::single_thread, Route::buffered_thread, Route::locked_thread),
                         [](const ::testing::TestParamInfo<Route>& info) {
                           switch (info.param) {
                             case Route::single_thread:
                               return std::string("SingleThread");
                             case Route::buffered_thread:
                               return std::string("BufferedThread");
                             case Route::locked_thread:
                               return std::string("LockedThread");
                           }
                           return std::string();
                         });

}  // namespace
