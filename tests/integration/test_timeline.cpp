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
