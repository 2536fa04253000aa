// Stress: threads doing random malloc/calloc/realloc/aligned/new[] and frees, checked against an
// exact reference model: every site's tb, tbk, mb, mbk, gb, gbk, eb, ebk and the global totals.
// The test serializes each operation with its log entry (a test mutex), so the reference replays
// the same order the recorder saw. Small in the suite; DHAT_STRESS_OPS=1000000 makes it a soak.
#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "profiled_run.hpp"

using dhat_test::Profile;

namespace {

enum Kind { kMalloc, kCalloc, kNewArray, kAlignedNew, kPosixMemalign, kAlignedAlloc, kKinds };
constexpr int kSites = 4;
constexpr int kThreads = 4;

template <int Site, int K>
__attribute__((noinline)) void* alloc_at(std::size_t size) {
  void* block = nullptr;
  switch (K) {
    case kMalloc:
      block = std::malloc(size);
      break;
    case kCalloc:
      block = std::calloc(size, 1);
      break;
    case kNewArray:
      block = new char[size];
      break;
    case kAlignedNew:
      block = ::operator new (size, std::align_val_t{64});
      break;
    case kPosixMemalign:
      if (posix_memalign(&block, 32, size) != 0) block = nullptr;
      break;
    case kAlignedAlloc:
      block = aligned_alloc(64, (size + 63) / 64 * 64);
      break;
    default:
      break;
  }
  asm volatile("" : : "r"(block) : "memory");
  return block;
}

using AllocFn = void* (*)(std::size_t);

template <int Site, int... K>
constexpr std::array<AllocFn, sizeof...(K)> row(std::integer_sequence<int, K...>) {
  return {&alloc_at<Site, K>...};
}
const std::array<std::array<AllocFn, kKinds>, kSites> kAllocators = {
    row<0>(std::make_integer_sequence<int, kKinds>{}), row<1>(std::make_integer_sequence<int, kKinds>{}),
    row<2>(std::make_integer_sequence<int, kKinds>{}), row<3>(std::make_integer_sequence<int, kKinds>{})};

std::size_t requested_size(int kind, std::size_t size) { return kind == kAlignedAlloc ? (size + 63) / 64 * 64 : size; }

void release(int kind, void* block) {
  if (kind == kNewArray) {
    delete[] static_cast<char*>(block);
  } else if (kind == kAlignedNew) {
    ::operator delete (block, std::align_val_t{64});
  } else {
    std::free(block);
  }
}

struct Event {
  int pp;                 // site * kKinds + kind
  std::int64_t old_size;  // -1: allocation; otherwise a realloc from old_size (new_size = 0: a free)
  std::int64_t new_size;
};

struct LiveBlock {
  void* block;
  int pp;
  int kind;
  std::size_t size;
};

struct Shared {
  std::mutex order;  // one operation and its log entry at a time: the reference's order
  std::vector<Event> log;
  std::atomic<bool> go{false};
  std::atomic<int> ready{0};  // workers that made all their own allocations before the run
  std::vector<std::vector<LiveBlock>> leaks;
};

void worker(Shared* shared, int id, int ops) {
  std::mt19937 random(1000 + id);
  std::vector<LiveBlock> live;
  live.reserve(static_cast<std::size_t>(ops));
  shared->ready.fetch_add(1);
  while (!shared->go.load()) {
    std::this_thread::yield();
  }
  for (int i = 0; i < ops; ++i) {
    const unsigned choice = random() % 100;
    std::lock_guard<std::mutex> hold(shared->order);
    if (live.empty() || choice < 50) {
      const int site = static_cast<int>(random() % kSites);
      const int kind = static_cast<int>(random() % kKinds);
      const std::size_t size = 1 + random() % 512;
      void* block = kAllocators[site][kind](size);
      const int pp = site * kKinds + kind;
      live.push_back(LiveBlock{block, pp, kind, requested_size(kind, size)});
      shared->log.push_back(Event{pp, -1, static_cast<std::int64_t>(requested_size(kind, size))});
    } else {
      const std::size_t victim = random() % live.size();
      LiveBlock& b = live[victim];
      if (choice < 70 && (b.kind == kMalloc || b.kind == kCalloc)) {
        const std::size_t new_size = 1 + random() % 1024;
        b.block = std::realloc(b.block, new_size);
        shared->log.push_back(Event{b.pp, static_cast<std::int64_t>(b.size), static_cast<std::int64_t>(new_size)});
        b.size = new_size;
      } else {
        release(b.kind, b.block);
        shared->log.push_back(Event{b.pp, static_cast<std::int64_t>(b.size), 0});
        b = live.back();
        live.pop_back();
      }
    }
  }
  std::lock_guard<std::mutex> hold(shared->order);
  shared->leaks[static_cast<std::size_t>(id)].swap(live);  // no allocation; freed after the profile
}

// The brute-force reference: Valgrind's method, every PP snapshotted at every new peak.
struct Reference {
  struct Pp {
    std::uint64_t tb = 0, tbk = 0, curr = 0, curr_blocks = 0, mb = 0, mbk = 0, gb = 0, gbk = 0;
  };
  std::vector<Pp> pps = std::vector<Pp>(std::size_t{kSites} * kKinds);
  std::uint64_t curr = 0, max = 0;

  void increased(int pp) {
    Pp& p = pps[static_cast<std::size_t>(pp)];
    if (p.curr > p.mb) {
      p.mb = p.curr;
      p.mbk = p.curr_blocks;
    }
    if (curr >= max) {
      max = curr;
      for (Pp& q : pps) {
        q.gb = q.curr;
        q.gbk = q.curr_blocks;
      }
    }
  }

  void replay(const Event& e) {
    Pp& p = pps[static_cast<std::size_t>(e.pp)];
    if (e.old_size < 0) {  // allocation
      p.tb += static_cast<std::uint64_t>(e.new_size);
      p.tbk += 1;
      p.curr += static_cast<std::uint64_t>(e.new_size);
      p.curr_blocks += 1;
      curr += static_cast<std::uint64_t>(e.new_size);
      increased(e.pp);
    } else if (e.new_size == 0) {  // free
      p.curr -= static_cast<std::uint64_t>(e.old_size);
      p.curr_blocks -= 1;
      curr -= static_cast<std::uint64_t>(e.old_size);
    } else {  // realloc: a new block in the totals, the live bytes move
      p.tb += static_cast<std::uint64_t>(e.new_size);
      p.tbk += 1;
      p.curr = p.curr - static_cast<std::uint64_t>(e.old_size) + static_cast<std::uint64_t>(e.new_size);
      curr = curr - static_cast<std::uint64_t>(e.old_size) + static_cast<std::uint64_t>(e.new_size);
      if (e.new_size >= e.old_size) {
        increased(e.pp);
      }
    }
  }
};

TEST(Stress, RandomThreadsMatchTheReferenceModelExactly) {
  const char* soak = std::getenv("DHAT_STRESS_OPS");
  const int ops = soak != nullptr ? std::atoi(soak) : 3000;
  Shared shared;
  shared.log.reserve(static_cast<std::size_t>(ops) * kThreads);
  shared.leaks.resize(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back(worker, &shared, t, ops);
  }
  const std::string path = dhat_test::file_for_current_test();
  while (shared.ready.load() < kThreads) {
    std::this_thread::yield();
  }
  {
    dhat::Profiler profiler = dhat::Profiler::builder().file_name(path).build();
    shared.go.store(true);
    for (auto& thread : threads) {
      thread.join();
    }
  }
  for (auto& leaks : shared.leaks) {
    for (const LiveBlock& b : leaks) {
      release(b.kind, b.block);
    }
  }
  Reference reference;
  for (const Event& e : shared.log) {
    reference.replay(e);
  }
  const Profile profile = Profile::load(path);
  std::uint64_t all_tbk = 0;
  for (int site = 0; site < kSites; ++site) {
    for (int kind = 0; kind < kKinds; ++kind) {
      const std::string name = "alloc_at<" + std::to_string(site) + ", " + std::to_string(kind) + ">(";
      SCOPED_TRACE(name);
      const auto pps = profile.passing_through(name);
      const Reference::Pp& want = reference.pps[static_cast<std::size_t>(site) * kKinds + kind];
      if (want.tbk == 0) {
        EXPECT_TRUE(pps.empty());
        continue;
      }
      ASSERT_EQ(pps.size(), 1U) << "one call site, one program point";
      const auto got = Profile::sum(pps);
      EXPECT_EQ(got.tb, want.tb);
      EXPECT_EQ(got.tbk, want.tbk);
      EXPECT_EQ(got.mb, want.mb);
      EXPECT_EQ(got.mbk, want.mbk);
      EXPECT_EQ(got.gb, want.gb);
      EXPECT_EQ(got.gbk, want.gbk);
      EXPECT_EQ(got.eb, want.curr);
      EXPECT_EQ(got.ebk, want.curr_blocks);
      all_tbk += got.tbk;
    }
  }
  EXPECT_EQ(all_tbk, static_cast<std::uint64_t>(std::count_if(shared.log.begin(), shared.log.end(),
                                                              [](const Event& e) { return e.new_size != 0; })));
}

}  // namespace
