// dhat::Section: allocations, bytes and the section's own peak of live bytes, for this thread
// and the whole process; nested sections; threads; with and without a running profiler.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "profiled_run.hpp"

using dhat_test::keep;

namespace {

extern "C" __attribute__((noinline)) void* section_site(std::size_t n) { return std::malloc(n); }

TEST(Sections, OneThreadWithoutAProfiler) {
  std::remove("dhat-heap.json");
  dhat::SectionStats process, thread;
  {
    dhat::Section section;
    ASSERT_TRUE(section.measuring());
    void* a = section_site(1000);
    void* b = section_site(2000);  // live 3000: the section's peak
    std::free(a);
    void* c = section_site(500);  // live 2500
    keep(b);
    keep(c);
    section.stop();
    process = section.process();
    thread = section.thread();
    std::free(b);
    std::free(c);
  }
  EXPECT_EQ(process.blocks, 3U);
  EXPECT_EQ(process.bytes, 3500U);
  EXPECT_EQ(process.peak_live_bytes, 3000U);
  EXPECT_EQ(process.live_bytes_change, 2500);
  EXPECT_EQ(thread.blocks, 3U);
  EXPECT_EQ(thread.bytes, 3500U);
  EXPECT_EQ(thread.peak_live_bytes, 3000U);
  EXPECT_EQ(thread.live_bytes_change, 2500);
  EXPECT_NE(access("dhat-heap.json", F_OK), 0) << "a section's private run writes nothing";
  EXPECT_EQ(dhat::HeapStats::get().total_blocks, 0U) << "the private run ended with the section";
}

TEST(Sections, AnotherThreadCountsForTheProcessOnly) {
  dhat::SectionStats process, thread;
  {
    dhat::Section section;
    void* mine = section_site(100);
    std::thread worker([] {
      for (int i = 0; i < 10; ++i) {
        void* block = section_site(4096);
        keep(block);
        std::free(block);
      }
    });
    worker.join();
    section.stop();
    process = section.process();
    thread = section.thread();
    std::free(mine);
  }
  // std::thread's own state block is allocated by this thread; count only the sites' blocks.
  EXPECT_GE(process.blocks, 11U);
  EXPECT_EQ(process.blocks - thread.blocks, 10U);
  EXPECT_EQ(process.bytes - thread.bytes, 40960U);
  EXPECT_GE(process.peak_live_bytes, 4196U);
  EXPECT_LT(thread.peak_live_bytes, 4096U);
  // This thread's live change includes std::thread's state block, which the worker freed.
  EXPECT_GE(thread.live_bytes_change, 100);
}

TEST(Sections, NestedSectionsHaveTheirOwnPeaks) {
  dhat::SectionStats outer_stats, inner_stats;
  auto profile = dhat_test::profile_of([&] {
    dhat::Section outer;
    void* a = section_site(300);
    {
      dhat::Section inner;
      void* b = section_site(700);  // outer live 1000, inner live 700
      std::free(b);
      inner.stop();
      inner_stats = inner.thread();
    }
    void* c = section_site(200);  // outer live 500
    std::free(a);
    std::free(c);
    outer.stop();
    outer_stats = outer.thread();
  });
  EXPECT_EQ(inner_stats.blocks, 1U);
  EXPECT_EQ(inner_stats.peak_live_bytes, 700U);
  EXPECT_EQ(inner_stats.live_bytes_change, 0);
  EXPECT_EQ(outer_stats.blocks, 3U);
  EXPECT_EQ(outer_stats.bytes, 1200U);
  EXPECT_EQ(outer_stats.peak_live_bytes, 1000U);
  EXPECT_EQ(outer_stats.live_bytes_change, 0);
  // Inside a running profiler the profile has the blocks as usual.
  EXPECT_EQ(profile.at("section_site").tbk, 3U);
  EXPECT_EQ(profile.at("section_site").tb, 1200U);
}

}  // namespace
