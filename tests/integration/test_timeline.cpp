// The heap timeline in the profile: its peak is t-gmax's bytes, its last level is t-end's.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "profiled_run.hpp"

namespace {

extern "C" __attribute__((noinline)) void* timeline_site(std::size_t n) { return std::malloc(n); }

TEST(Timeline, PeakAndEndAgreeWithTheProgramPoints) {
  std::vector<void*> kept;
  auto profile = dhat_test::profile_of([&] {
    std::vector<void*> blocks;
    blocks.reserve(200);
    for (int i = 0; i < 200; ++i) {
      blocks.push_back(timeline_site(1000 + static_cast<std::size_t>(i)));
      if (i % 50 == 0) {
        usleep(2000);  // spread the run over several buckets
      }
    }
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      if (i % 10 == 0) {
        kept.push_back(blocks[i]);
      } else {
        std::free(blocks[i]);
      }
    }
  });
  for (void* block : kept) {
    std::free(block);
  }
  const auto& doc = profile.doc;
  ASSERT_TRUE(doc.contains("dhatCppTimeline"));
  const auto& timeline = doc["dhatCppTimeline"];
  const auto max_bytes = timeline["maxBytes"].get<std::vector<std::uint64_t>>();
  const auto end_bytes = timeline["endBytes"].get<std::vector<std::uint64_t>>();
  ASSERT_FALSE(max_bytes.empty());
  ASSERT_EQ(max_bytes.size(), end_bytes.size());
  EXPECT_LE(max_bytes.size(), 512U);
  const auto bucket = timeline["bucketUs"].get<std::uint64_t>();
  EXPECT_EQ(bucket & (bucket - 1), 0U) << "a power of two";
  std::uint64_t gb = 0, eb = 0;
  for (const auto& pp : doc["pps"]) {
    gb += pp["gb"].get<std::uint64_t>();
    eb += pp["eb"].get<std::uint64_t>();
  }
  EXPECT_EQ(*std::max_element(max_bytes.begin(), max_bytes.end()), gb);
  EXPECT_EQ(end_bytes.back(), eb);
  EXPECT_GE(bucket * max_bytes.size(), doc["tg"].get<std::uint64_t>());
}

}  // namespace

// ---- The process's resident memory beside the heap (dhatCppRss) ----

#include <malloc.h>

#include <chrono>
#include <cstring>

namespace {

extern "C" __attribute__((noinline)) void* record_site(std::size_t n) { return std::malloc(n); }
extern "C" __attribute__((noinline)) void* big_site(std::size_t n) { return std::malloc(n); }
extern "C" __attribute__((noinline)) void* tick_site(std::size_t n) { return std::malloc(n); }

// Heap traffic for `ms` milliseconds: RSS is read as the heap changes (at most once a ms).
void tick_for(int ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end) {
    void* block = tick_site(16);
    dhat_test::keep(block);
    std::free(block);
  }
}

struct Reading {
  std::uint64_t at_us;
  std::uint64_t bytes;
};

struct RssRecord {
  std::vector<Reading> readings;  // one per bucket that holds one, in time order
  std::uint64_t peak = 0;
};

RssRecord rss_of(const dhat_test::Profile& profile) {
  RssRecord record;
  const auto& rss = profile.doc.at(dhat::format::kRssField);
  const auto bucket = rss.at(dhat::format::kTimelineBucketKey).get<std::uint64_t>();
  const auto max_bytes = rss.at(dhat::format::kTimelineMaxKey).get<std::vector<std::uint64_t>>();
  const auto end_bytes = rss.at(dhat::format::kTimelineEndKey).get<std::vector<std::uint64_t>>();
  EXPECT_EQ(max_bytes.size(), end_bytes.size());
  EXPECT_LE(max_bytes.size(), 512U);
  for (std::size_t i = 0; i < max_bytes.size(); ++i) {
    EXPECT_EQ(max_bytes[i] == 0, end_bytes[i] == 0) << "bucket " << i << ": a reading has both or neither";
    if (max_bytes[i] != 0) {
      record.readings.push_back(Reading{bucket * i, max_bytes[i]});
    }
  }
  record.peak = rss.at(dhat::format::kRssPeakKey).get<std::uint64_t>();
  return record;
}

// Many small blocks, most freed, a few pinned on every page: glibc's malloc cannot give those
// pages back, so the process holds tens of MB that the heap no longer uses.
TEST(ResidentMemory, AnAllocatorThatKeepsItsPagesShowsRssWellAboveTheLiveHeap) {
  constexpr std::size_t kBlocks = 200000, kBytes = 200, kPinEvery = 50;
  std::vector<void*> blocks(kBlocks), pinned;
  pinned.reserve(kBlocks / kPinEvery);
  std::size_t arena_held = 0;
  const auto profile = dhat_test::profile_of([&] {
    tick_for(3);
    for (void*& block : blocks) {
      block = record_site(kBytes);
    }
    for (std::size_t i = 0; i < kBlocks; ++i) {
      if (i % kPinEvery == 0) {
        pinned.push_back(blocks[i]);
      } else {
        std::free(blocks[i]);
      }
    }
    tick_for(5);
    arena_held = mallinfo2().arena;  // what glibc's main heap holds from the kernel
  });
  for (void* block : pinned) {
    std::free(block);
  }
  const auto records = dhat_test::Profile::sum(profile.allocated_in("record_site"));
  EXPECT_EQ(records.tbk, kBlocks);
  EXPECT_EQ(records.tb, kBlocks * kBytes);
  EXPECT_EQ(records.ebk, kBlocks / kPinEvery);
  EXPECT_EQ(records.eb, kBlocks / kPinEvery * kBytes);
  std::uint64_t live_at_end = 0;
  for (const auto& pp : profile.doc["pps"]) {
    live_at_end += pp["eb"].get<std::uint64_t>();
  }

  const RssRecord rss = rss_of(profile);
  ASSERT_GE(rss.readings.size(), 3U);
  const std::uint64_t at_start = rss.readings.front().bytes, at_end = rss.readings.back().bytes;
  // The premise: glibc holds the freed blocks' pages (200,000 chunks of 208 bytes: 41.6 MB).
  ASSERT_GE(arena_held, kBlocks * kBytes * 9 / 10);
  // RSS grew by most of what glibc holds (far more than the profiler's own tables could add)
  // and stayed there while the live heap is under 1 MB.
  EXPECT_GE(at_end, at_start + arena_held * 8 / 10) << "start " << at_start << ", end " << at_end;
  EXPECT_LT(live_at_end, std::uint64_t{1} << 20);
  EXPECT_GE(at_end, 20 * live_at_end);
  EXPECT_GE(rss.peak, at_end);
}

// A big block, touched: RSS rises with the heap while it lives and falls when it is freed.
TEST(ResidentMemory, ABigBlockThatIsTouchedShowsRssFollowingTheHeap) {
  constexpr std::size_t kBig = std::size_t{128} << 20;
  const auto profile = dhat_test::profile_of([&] {
    tick_for(20);
    auto* big = static_cast<char*>(big_site(kBig));
    std::memset(big, 1, kBig);
    dhat_test::keep(big);  // the pages must really be written (a store before free() can be dropped)
    tick_for(20);          // heap events while the block lives: RSS is read
    std::free(big);
    tick_for(20);
  });
  const auto big = dhat_test::Profile::sum(profile.allocated_in("big_site"));
  EXPECT_EQ(big.tb, kBig);
  EXPECT_EQ(big.tbk, 1U);
  EXPECT_EQ(big.gb, kBig);  // the block is the heap's peak
  EXPECT_EQ(big.eb, 0U);

  // When the heap held the block: the heap timeline's buckets at or above its size.
  const auto& heap = profile.doc["dhatCppTimeline"];
  const auto heap_bucket = heap["bucketUs"].get<std::uint64_t>();
  const auto heap_max = heap["maxBytes"].get<std::vector<std::uint64_t>>();
  std::uint64_t held_from = UINT64_MAX, held_to = 0;
  for (std::size_t i = 0; i < heap_max.size(); ++i) {
    if (heap_max[i] >= kBig) {
      held_from = std::min<std::uint64_t>(held_from, heap_bucket * i);
      held_to = heap_bucket * (i + 1);
    }
  }
  ASSERT_LT(held_from, held_to);

  const RssRecord rss = rss_of(profile);
  std::uint64_t before = 0, while_held = 0, after = 0;
  for (const Reading& r : rss.readings) {
    if (r.at_us + 2 * heap_bucket < held_from) {
      before = std::max(before, r.bytes);
    } else if (r.at_us >= held_from && r.at_us + 2 * heap_bucket < held_to) {
      while_held = std::max(while_held, r.bytes);
    } else if (r.at_us > held_to + 2 * heap_bucket) {
      after = r.bytes;  // the last reading after the free
    }
  }
  std::string readings;
  for (const Reading& r : rss.readings) {
    readings += " " + std::to_string(r.at_us) + ":" + std::to_string(r.bytes);
  }
  SCOPED_TRACE("held from " + std::to_string(held_from) + " to " + std::to_string(held_to) + " us; readings" +
               readings);
  ASSERT_NE(before, 0U) << "no reading before the block";
  ASSERT_NE(after, 0U) << "no reading after the block";
  EXPECT_LT(before + kBig / 2, while_held) << "RSS rose with the heap";
  EXPECT_GE(while_held, kBig);
  EXPECT_LT(after + kBig / 2, while_held) << "and fell when the block was freed";
  EXPECT_GE(rss.peak, kBig);
}

}  // namespace
