// The cached-CFI unwinder must give exactly the addresses libgcc's _Unwind_Backtrace gives, on
// stacks through optimized and unoptimized code, recursion, alloca (rbp-based frames), and
// callbacks from glibc (qsort) and libstdc++ (std::sort).
#include <gtest/gtest.h>

#include <alloca.h>
#include <link.h>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/cfi_unwinder.hpp"
#include "core/dwarf_cfi.hpp"
#include "core/stack_capture.hpp"

using namespace dhat::core;

namespace {

std::vector<std::uintptr_t> frames_of(const RawStack& stack) {
  return std::vector<std::uintptr_t>(stack.frames, stack.frames + stack.depth);
}

// Both unwinders from the same point, compared frame by frame.
struct Comparison {
  RawStack cfi, libgcc;
  bool cfi_walked = false;  // the CFI walker handled the whole stack itself (no fallback)
};
Comparison* g_comparison = nullptr;

bool never_trim(std::uintptr_t) { return false; }

std::uintptr_t g_return_address_into_recurse = 0;

__attribute__((noinline)) void capture_both() {
  g_return_address_into_recurse = strip_return_address(reinterpret_cast<std::uintptr_t>(__builtin_return_address(0)));
  g_comparison->cfi_walked = cfi_capture(g_comparison->cfi, kMaxFramesLimit, &never_trim);
  capture_stack_with(g_comparison->libgcc, kMaxFramesLimit, Unwinder::libgcc);
  // The two calls return to different addresses here; make frame 0 comparable.
  g_comparison->cfi.frames[0] = g_comparison->libgcc.frames[0] = 0;
}

__attribute__((noinline)) int recurse(int depth) {
  if (depth == 0) {
    capture_both();
    return 1;
  }
  return recurse(depth - 1) + 1;  // not a tail call: every level keeps a frame
}

__attribute__((noinline)) int with_alloca(std::size_t bytes) {
  char* buffer = static_cast<char*>(alloca(bytes));
  std::memset(buffer, 1, bytes);
  asm volatile("" : : "r"(buffer) : "memory");
  return recurse(3) + buffer[bytes / 2];
}

int compare_capturing(const void* a, const void* b) {
  static bool captured = false;
  if (!captured) {
    captured = true;
    capture_both();
  }
  return *static_cast<const int*>(a) - *static_cast<const int*>(b);
}

void expect_same_frames(const Comparison& c) {
  ASSERT_GE(c.libgcc.depth, 3U);
  EXPECT_TRUE(c.cfi_walked) << "the CFI walker fell back to libgcc";
  EXPECT_EQ(frames_of(c.cfi), frames_of(c.libgcc));
}

TEST(Unwinders, SameFramesThroughRecursion) {
  for (int depth : {0, 1, 5, 40, 100}) {
    Comparison c;
    g_comparison = &c;
    recurse(depth);
    SCOPED_TRACE(depth);
    expect_same_frames(c);
  }
}

TEST(Unwinders, SameFramesThroughAllocaFrames) {
  Comparison c;
  g_comparison = &c;
  with_alloca(1000);
  expect_same_frames(c);
}

TEST(Unwinders, SameFramesThroughGlibcAndLibstdcxxCallbacks) {
  std::vector<int> numbers = {5, 3, 9, 1, 7, 2};
  Comparison from_qsort;
  g_comparison = &from_qsort;
  std::qsort(numbers.data(), numbers.size(), sizeof(int), &compare_capturing);
  expect_same_frames(from_qsort);

  Comparison from_sort;
  g_comparison = &from_sort;
  bool captured = false;
  std::vector<int> more(100);
  for (int i = 0; i < 100; ++i) {
    more[static_cast<std::size_t>(i)] = (i * 37) % 101;
  }
  std::sort(more.begin(), more.end(), [&](int a, int b) {
    if (!captured) {
      captured = true;
      capture_both();
    }
    return a < b;
  });
  expect_same_frames(from_sort);
}

TEST(Unwinders, RulesOfKnownShapes) {
  Comparison comparison;
  g_comparison = &comparison;
  recurse(0);
  ASSERT_NE(g_return_address_into_recurse, 0U);
  // Where recurse() called capture_both(): its frame holds the return address (x86-64: at CFA - 8,
  // the CFA rsp- or rbp-based; AArch64: x30 saved by the prologue, the CFA sp- or x29-based).
  const UnwindRule after_call = rule_for_pc(g_return_address_into_recurse - 1);
  EXPECT_TRUE(after_call.valid);
  EXPECT_FALSE(after_call.outermost);
  EXPECT_GE(after_call.cfa_offset, 8);
  EXPECT_LT(after_call.return_address_offset, 0);  // below the CFA, in recurse's own frame
  const UnwindRule at_entry = rule_for_pc(reinterpret_cast<std::uintptr_t>(&recurse));
  if (kReturnAddressAtFixedOffset) {
    // x86-64, first instruction: the call just pushed the return address, CFA = rsp + 8.
    EXPECT_TRUE(at_entry.valid);
    EXPECT_EQ(at_entry.cfa_offset, 8);
  } else {
    // AArch64, first instruction: the return address is still in x30, which the walker never
    // needs (a caller has always saved it before calling): not a modelled rule.
    EXPECT_FALSE(at_entry.valid);
  }
  // No code at all: no rule.
  EXPECT_FALSE(rule_for_pc(16).valid);
}

// rule_for_pc finds FDEs in each object's .eh_frame_hdr index: it must find one exactly where
// libgcc's _Unwind_Find_FDE does (gaps between functions and code without CFI included), at
// every 61st byte of the executable segments of every object of this process.
struct LibgccBases {
  void* tbase;
  void* dbase;
  void* func;
};
extern "C" const void* _Unwind_Find_FDE(void* pc, LibgccBases* bases);  // NOLINT(bugprone-reserved-identifier)

TEST(Unwinders, FdesAreFoundWhereLibgccFindsThem) {
  struct Range {
    std::uintptr_t start, end;
  };
  std::vector<Range> code;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) -> int {
        for (std::size_t i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& h = info->dlpi_phdr[i];
          if (h.p_type == PT_LOAD && (h.p_flags & PF_X) != 0) {
            const std::uintptr_t start = info->dlpi_addr + h.p_vaddr;
            static_cast<std::vector<Range>*>(data)->push_back(Range{start, start + h.p_memsz});
          }
        }
        return 0;
      },
      &code);
  ASSERT_GE(code.size(), 3U);  // this program, libstdc++, libc at least
  std::size_t checked = 0, with_fde = 0, differing = 0;
  for (const Range& r : code) {
    for (std::uintptr_t pc = r.start; pc < r.end; pc += 61) {
      LibgccBases bases{};
      const bool libgcc_has = _Unwind_Find_FDE(reinterpret_cast<void*>(pc), &bases) != nullptr;
      const bool ours_has = !rule_for_pc(pc).no_fde;
      ++checked;
      with_fde += libgcc_has ? 1 : 0;
      if (libgcc_has != ours_has && ++differing <= 5) {
        ADD_FAILURE() << std::hex << "pc 0x" << pc << ": libgcc " << libgcc_has << ", rule_for_pc " << ours_has;
      }
    }
  }
  std::printf("%zu addresses in %zu code segments, %zu with an FDE\n", checked, code.size(), with_fde);
  EXPECT_EQ(differing, 0U) << "of " << checked << " addresses";
  EXPECT_GT(with_fde, checked / 2);
}

}  // namespace
