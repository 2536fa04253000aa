// realloc follows DHAT's rules: a new block in the totals, charged to the original program
// point, moving the live bytes by the difference; NULL, zero size and unknown blocks included.
#include <gtest/gtest.h>

#include <cstdlib>

#include "profiled_run.hpp"

using dhat_test::keep;
using dhat_test::profile_of;

namespace {

extern "C" __attribute__((noinline)) void* realloc_origin(std::size_t bytes) { return std::malloc(bytes); }
extern "C" __attribute__((noinline)) void* realloc_caller(void* block, std::size_t bytes) {
  return std::realloc(block, bytes);
}
extern "C" __attribute__((noinline)) void* reallocarray_caller(void* block, std::size_t n, std::size_t size) {
  return reallocarray(block, n, size);
}

TEST(Realloc, GrowAndShrinkAreChargedToTheOriginalSite) {
  auto profile = profile_of([] {
    void* block = realloc_origin(100);
    block = realloc_caller(block, 1000);  // grow: +1 block, +1000 total, live 1000
    block = realloc_caller(block, 10);    // shrink: +1 block, +10 total, live 10
    keep(block);
    std::free(block);
  });
  const auto origin = profile.at("realloc_origin");
  EXPECT_EQ(origin.tb, 1110U);
  EXPECT_EQ(origin.tbk, 3U);
  EXPECT_EQ(origin.mb, 1000U);
  EXPECT_EQ(origin.mbk, 1U);
  EXPECT_EQ(origin.eb, 0U);
  EXPECT_EQ(profile.at("realloc_caller").count, 0U);  // the realloc call site never becomes a PP
}

TEST(Realloc, PeakReachedByGrowthIsSnapshottedAtItsSize) {
  auto profile = profile_of([] {
    void* block = realloc_origin(10);
    block = realloc_caller(block, 50000);  // the peak
    block = realloc_caller(block, 20);
    keep(block);
    std::free(block);
  });
  const auto origin = profile.at("realloc_origin");
  EXPECT_EQ(origin.gb, 50000U);
  EXPECT_EQ(origin.gbk, 1U);
}

TEST(Realloc, NullIsMallocAndZeroSizeIsFree) {
  auto profile = profile_of([] {
    void* block = realloc_caller(nullptr, 64);  // malloc at realloc_caller
    void* gone = realloc_caller(block, 0);      // glibc frees and returns NULL
    EXPECT_EQ(gone, nullptr);
    void* array = reallocarray_caller(nullptr, 8, 16);
    array = reallocarray_caller(array, 16, 16);
    keep(array);
    std::free(array);
  });
  const auto site = profile.at("realloc_caller");
  EXPECT_EQ(site.tb, 64U);
  EXPECT_EQ(site.tbk, 1U);
  EXPECT_EQ(site.eb, 0U);
  const auto array_site = profile.at("reallocarray_caller");
  EXPECT_EQ(array_site.tb, 128U + 256U);
  EXPECT_EQ(array_site.tbk, 2U);
  EXPECT_EQ(array_site.mb, 256U);
  EXPECT_EQ(array_site.eb, 0U);
}

TEST(Realloc, UnknownBlockCountsAsAFreshAllocationAtTheCallSite) {
  void* from_before = std::malloc(30);  // allocated before the run
  void* result = nullptr;
  auto profile = profile_of([&] { result = realloc_caller(from_before, 300); });
  std::free(result);
  const auto site = profile.at("realloc_caller");
  EXPECT_EQ(site.tb, 300U);
  EXPECT_EQ(site.tbk, 1U);
  EXPECT_EQ(site.eb, 300U);
}

TEST(Realloc, OverflowingReallocarrayFailsAndLeavesTheBlockLive) {
  auto profile = profile_of([] {
    void* block = realloc_origin(40);
    void* failed = reallocarray_caller(block, static_cast<std::size_t>(1) << 40, static_cast<std::size_t>(1) << 40);
    EXPECT_EQ(failed, nullptr);
    void* too_big = realloc_caller(block, static_cast<std::size_t>(-1) / 2);  // fails, block intact
    EXPECT_EQ(too_big, nullptr);
    keep(block);
    std::free(block);
  });
  const auto origin = profile.at("realloc_origin");
  EXPECT_EQ(origin.tb, 40U);
  EXPECT_EQ(origin.tbk, 1U);
  EXPECT_EQ(origin.eb, 0U);
}

}  // namespace
