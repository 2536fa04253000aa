// DHAT's accounting rules on the bare model, checked against a brute-force reference that
// snapshots every program point at every new peak (Valgrind's O(PPs) method).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "core/heap_model.hpp"
#include "internal_alloc_plain.hpp"

using dhat::core::HeapModel;
using dhat::core::PpId;

namespace {

TEST(HeapModel, ClearingGivesEveryByteBack) {
  const std::size_t before = dhat::core::internal_bytes_held_for_tests();
  HeapModel model;
  ASSERT_TRUE(model.ensure_pp(50000));
  model.on_alloc(50000, 8, 1);
  EXPECT_GT(dhat::core::internal_bytes_held_for_tests(), before + std::size_t{50000} * 16);
  model.clear();
  EXPECT_EQ(dhat::core::internal_bytes_held_for_tests(), before);
  EXPECT_EQ(model.pp_count(), 0U);
}

TEST(HeapModel, AllocFreeAndPeak) {
  HeapModel model;
  ASSERT_TRUE(model.ensure_pp(1));
  model.on_alloc(0, 100, 1);
  model.on_alloc(1, 50, 2);  // peak 150 at t=2
  model.on_free(0, 100, 5);
  model.on_alloc(1, 20, 6);
  model.finish(10);
  const auto& g = model.global();
  EXPECT_EQ(g.total_bytes, 170U);
  EXPECT_EQ(g.total_blocks, 3U);
  EXPECT_EQ(g.max_bytes, 150U);
  EXPECT_EQ(g.max_blocks, 2U);
  EXPECT_EQ(g.tgmax_us, 2U);
  EXPECT_EQ(g.tend_us, 10U);
  EXPECT_EQ(g.curr_bytes, 70U);
  EXPECT_EQ(model.pp(0).gmax_bytes, 100U);
  EXPECT_EQ(model.pp(1).gmax_bytes, 50U);
  EXPECT_EQ(model.pp(1).gmax_blocks, 1U);
  EXPECT_EQ(model.pp(0).total_lifetime_us, 4U);
  // PP 1: blocks born at 2 and 6, both live at t-end 10.
  EXPECT_EQ(model.pp(1).total_lifetime_us, 8U + 4U);
  EXPECT_EQ(model.pp(1).max_bytes, 70U);
  EXPECT_EQ(model.pp(1).max_blocks, 2U);
}

TEST(HeapModel, ReallocIsANewBlockInTheTotals) {
  HeapModel model;
  ASSERT_TRUE(model.ensure_pp(0));
  model.on_alloc(0, 10, 0);
  model.on_realloc(0, 10, 1000, 3);  // peak 1000 at t=3
  model.on_realloc(0, 1000, 5, 4);
  model.finish(9);
  const auto& pp = model.pp(0);
  EXPECT_EQ(pp.total_bytes, 1015U);
  EXPECT_EQ(pp.total_blocks, 3U);
  EXPECT_EQ(pp.curr_bytes, 5U);
  EXPECT_EQ(pp.curr_blocks, 1U);
  EXPECT_EQ(pp.gmax_bytes, 1000U);
  EXPECT_EQ(model.global().tgmax_us, 3U);
  EXPECT_EQ(pp.total_lifetime_us, 9U);  // the block keeps its birth time across realloc
}

// The reference: Valgrind's method, O(PPs) snapshot whenever the heap is at its max before a decrease.
struct Reference {
  std::vector<std::uint64_t> curr, gmax;
  std::uint64_t global_curr = 0, global_max = 0;
  void snapshot_if_peak() {
    if (global_curr == global_max) {
      gmax = curr;
    }
  }
};

TEST(HeapModel, LazyPeakSnapshotMatchesBruteForce) {
  constexpr PpId kPps = 17;
  for (unsigned seed = 1; seed <= 50; ++seed) {
    std::mt19937 random(seed);
    HeapModel model;
    ASSERT_TRUE(model.ensure_pp(kPps - 1));
    Reference ref;
    ref.curr.assign(kPps, 0);
    ref.gmax.assign(kPps, 0);
    struct Block {
      PpId pp;
      std::uint64_t size;
      std::uint64_t birth;
    };
    std::vector<std::uint64_t> lifetimes(kPps, 0);  // summed per block: the direct definition
    std::vector<Block> live;
    for (int step = 0; step < 2000; ++step) {
      const bool allocate = live.empty() || random() % 100 < 55;
      if (allocate) {
        const PpId pp = random() % kPps;
        const std::uint64_t size = 1 + random() % 64;
        model.on_alloc(pp, size, static_cast<std::uint64_t>(step));
        live.push_back(Block{pp, size, static_cast<std::uint64_t>(step)});
        ref.curr[pp] += size;
        ref.global_curr += size;
        if (ref.global_curr >= ref.global_max) {
          ref.global_max = ref.global_curr;
        }
      } else {
        const std::size_t victim = random() % live.size();
        const Block block = live[victim];
        live[victim] = live.back();
        live.pop_back();
        ref.snapshot_if_peak();
        model.on_free(block.pp, block.size, static_cast<std::uint64_t>(step));
        lifetimes[block.pp] += static_cast<std::uint64_t>(step) - block.birth;
        ref.curr[block.pp] -= block.size;
        ref.global_curr -= block.size;
      }
    }
    ref.snapshot_if_peak();
    model.finish(5000);
    for (const Block& block : live) {
      lifetimes[block.pp] += 5000 - block.birth;
    }
    ASSERT_EQ(model.global().max_bytes, ref.global_max) << "seed " << seed;
    for (PpId pp = 0; pp < kPps; ++pp) {
      ASSERT_EQ(model.pp(pp).gmax_bytes, ref.gmax[pp]) << "seed " << seed << " pp " << pp;
      ASSERT_EQ(model.pp(pp).curr_bytes, ref.curr[pp]) << "seed " << seed << " pp " << pp;
      ASSERT_EQ(model.pp(pp).total_lifetime_us, lifetimes[pp]) << "seed " << seed << " pp " << pp;
    }
  }
}

}  // namespace

#include "core/timeline.hpp"

namespace {

TEST(Timeline, BoundedBucketsKeepThePeakAndTheEnd) {
  dhat::core::Timeline timeline;
  std::uint64_t live = 0, peak = 0;
  std::mt19937 random(3);
  std::uint64_t now = 0;
  for (int step = 0; step < 100000; ++step) {
    now += random() % 50;
    live = random() % 2 == 0 ? live + random() % 1000 : (live > 500 ? live - 500 : 0);
    peak = std::max(peak, live);
    timeline.record(now, live);
  }
  ASSERT_LE(timeline.used(), dhat::core::Timeline::kBuckets);
  ASSERT_GT(timeline.used(), dhat::core::Timeline::kBuckets / 2);  // merging keeps at least half in use
  std::uint64_t seen_peak = 0;
  for (std::size_t i = 0; i < timeline.used(); ++i) {
    seen_peak = std::max(seen_peak, timeline.max_bytes(i));
    ASSERT_GE(timeline.max_bytes(i), timeline.end_bytes(i));
  }
  EXPECT_EQ(seen_peak, peak);
  EXPECT_EQ(timeline.end_bytes(timeline.used() - 1), live);
  EXPECT_GE(timeline.bucket_us() * timeline.used(), now);
}

TEST(Timeline, QuietBucketsKeepTheLevel) {
  dhat::core::Timeline timeline;
  timeline.record(0, 100);
  timeline.record(10, 300);
  timeline.record(10, 50);
  ASSERT_EQ(timeline.used(), 11U);
  EXPECT_EQ(timeline.max_bytes(5), 100U);  // nothing happened: the level stays
  EXPECT_EQ(timeline.max_bytes(10), 300U);
  EXPECT_EQ(timeline.end_bytes(10), 50U);
}

}  // namespace

#include <cmath>

#include "core/rss_timeline.hpp"

namespace {

TEST(Timeline, SampledQuantitiesLeaveBucketsWithoutAReadingAtZeroThroughMerges) {
  dhat::core::Timeline timeline;
  timeline.clear(dhat::core::Timeline::Gaps::zero);
  timeline.record(0, 100);
  timeline.record(10, 300);
  timeline.record(10, 50);
  ASSERT_EQ(timeline.used(), 11U);
  EXPECT_EQ(timeline.max_bytes(5), 0U);  // no reading here
  EXPECT_EQ(timeline.end_bytes(5), 0U);
  EXPECT_EQ(timeline.max_bytes(10), 300U);
  EXPECT_EQ(timeline.end_bytes(10), 50U);
  // Readings at 0 and 600 (merges to width 2): the last reading's bucket keeps its own end, the
  // bucket that merged a reading with an empty neighbour keeps the reading's end.
  timeline.record(1021, 70);
  ASSERT_EQ(timeline.bucket_us(), 2U);
  EXPECT_EQ(timeline.end_bytes(5), 50U);  // buckets 10 and 11: 11 had no reading
  EXPECT_EQ(timeline.max_bytes(5), 300U);
  EXPECT_EQ(timeline.max_bytes(6), 0U);
  EXPECT_EQ(timeline.end_bytes(510), 70U);
}

// The reads are bounded whatever the run's length: an hour of heap events every 100 µs reads
// /proc/self/statm once per millisecond for the first 512 ms, then about 256 times each time the
// run doubles in length, never per event.
TEST(RssTimeline, AnHourOfHeapEventsTakesABoundedNumberOfReadings) {
  dhat::core::RssTimeline rss;
  rss.start(0, true);
  ASSERT_TRUE(rss.available()) << "/proc/self/statm could not be read";
  constexpr std::uint64_t kHourUs = 3'600'000'000;
  std::uint64_t events = 0;
  for (std::uint64_t now = 0; now < kHourUs; now += 100) {
    ++events;
    if (rss.due(now)) {
      rss.sample(now);
    }
  }
  rss.finish(kHourUs);
  const double doublings = std::log2(static_cast<double>(kHourUs) / 512'000.0);
  const auto bound = static_cast<std::uint64_t>(512 + 256 * (doublings + 2));
  EXPECT_LE(rss.readings(), bound) << "of " << events << " events";
  EXPECT_GE(rss.readings(), 512U + 256U * static_cast<std::uint64_t>(doublings - 1));
  EXPECT_LE(rss.levels().used(), dhat::core::Timeline::kBuckets);
  EXPECT_GE(rss.peak_bytes(), rss.levels().max_bytes(0));
  EXPECT_NE(rss.levels().end_bytes(rss.levels().used() - 1), 0U) << "the last reading is at t-end";
}

TEST(RssTimeline, DisabledReadsNothing) {
  dhat::core::RssTimeline rss;
  rss.start(0, false);
  EXPECT_FALSE(rss.due(1'000'000'000));
  rss.finish(2'000'000);
  EXPECT_FALSE(rss.available());
  EXPECT_EQ(rss.readings(), 0U);
}

}  // namespace
