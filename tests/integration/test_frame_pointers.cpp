// A program built with frame pointers (-O2 -fno-omit-frame-pointer, as many distributions now
// build): its frames find their callers through rbp, so the walk must start from the rbp the
// program really had at the call. Every allocation entry point is used; each must give the
// exact call chain, and no walk may need the slow libgcc fallback. This file is compiled with
// -O2 -fno-omit-frame-pointer.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "core/recorder.hpp"
#include "profiled_run.hpp"

using dhat_test::keep;
using dhat_test::profile_of;

namespace {

enum class Entry { new_single, new_array, new_nothrow, new_aligned, malloc_call, realloc_call };

// Values kept live across the allocation in callee-saved registers: the hooks' own callees push
// those registers first, which is what once overwrote the saved rbp the walk started from.
extern "C" __attribute__((noinline)) void* fp_inner(Entry entry, std::size_t n) {
  switch (entry) {
    case Entry::new_single:
      return new char[1] + (n & 0);  // NOLINT: the array form is not the point here
    case Entry::new_array:
      return new char[n];
    case Entry::new_nothrow:
      return new (std::nothrow) char[n];
    case Entry::new_aligned:
      return ::operator new (n, std::align_val_t{64});
    case Entry::malloc_call:
      return std::malloc(n);
    case Entry::realloc_call:
      return std::realloc(nullptr, n);  // a new block at this site (a known one keeps its own)
  }
  return nullptr;
}

extern "C" __attribute__((noinline)) void* fp_middle(Entry entry, std::size_t n) {
  void* block = fp_inner(entry, n);
  keep(block);
  return block;
}

extern "C" __attribute__((noinline)) void* fp_outer(Entry entry, std::size_t n) {
  void* block = fp_middle(entry, n + 1);
  keep(block);
  return block;
}

void release(Entry entry, void* block) {
  switch (entry) {
    case Entry::new_single:
    case Entry::new_array:
    case Entry::new_nothrow:
      delete[] static_cast<char*>(block);
      return;
    case Entry::new_aligned:
      ::operator delete (block, std::align_val_t{64});
      return;
    case Entry::malloc_call:
    case Entry::realloc_call:
      std::free(block);
      return;
  }
}

TEST(FramePointers, EveryEntryPointWalksTheProgramsChainWithoutLibgcc) {
  const std::vector<Entry> entries = {Entry::new_single,  Entry::new_array,   Entry::new_nothrow,
                                      Entry::new_aligned, Entry::malloc_call, Entry::realloc_call};
  std::size_t walks_by_libgcc = 0;
  auto profile = profile_of([&] {
    for (int round = 0; round < 100; ++round) {
      for (const Entry entry : entries) {
        release(entry, fp_outer(entry, 40));
      }
    }
    walks_by_libgcc = dhat::core::libgcc_walks();
  });
  EXPECT_EQ(walks_by_libgcc, 0U);
  const auto pps = profile.allocated_in("fp_inner");
  // A program point per call instruction, 100 blocks per entry point: one each on x86-64; GCC for
  // AArch64 shares one call between new char[1] and new char[n] (200 blocks there).
  ASSERT_LE(pps.size(), entries.size());
  std::uint64_t blocks = 0;
  for (const auto& pp : pps) {
    blocks += pp["tbk"].get<std::uint64_t>();
    EXPECT_EQ(pp["tbk"].get<std::uint64_t>() % 100, 0U);
    ASSERT_GE(pp["fs"].size(), 3U);
    EXPECT_NE(profile.frame(pp, 0).find("fp_inner"), std::string::npos) << profile.frame(pp, 0);
    EXPECT_NE(profile.frame(pp, 1).find("fp_middle"), std::string::npos) << profile.frame(pp, 1);
    EXPECT_NE(profile.frame(pp, 2).find("fp_outer"), std::string::npos) << profile.frame(pp, 2);
  }
  EXPECT_EQ(blocks, 100U * entries.size());
}

}  // namespace
