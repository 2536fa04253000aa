// The indexed libdw symbolizer against backward-cpp's resolver (the reference): the same frames,
// field by field, for every byte address of -O2 code with inlined calls, of this test's own
// -O0 code, of a library without .debug_aranges, and of libstdc++ and libc (no debug
// information: symbol and object only).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "report/backward_symbolizer.hpp"
#include "report/dwarf_symbolizer.hpp"

extern "C" const void* symbolizer_subject_code();
extern "C" int symbolizer_subject_run(int n);
extern "C" const void* no_aranges_subject_code();
extern "C" int no_aranges_subject_run(int n);

using namespace dhat::report;

namespace {

std::string describe(const std::vector<Frame>& frames) {
  std::string text;
  for (const Frame& f : frames) {
    text += dhat::format::format_frame(f) + " [" + f.object + "]\n";
  }
  return text;
}

// Compares both symbolizers on [start, start + bytes); returns how many frames were inlined.
std::size_t expect_same_frames(std::uintptr_t start, std::size_t bytes) {
  BackwardSymbolizer reference;
  DwarfSymbolizer fast;
  std::size_t inlined = 0;
  for (std::uintptr_t address = start; address < start + bytes; ++address) {
    const std::vector<Frame> expected = reference.resolve(address);
    const std::vector<Frame> actual = fast.resolve(address);
    EXPECT_EQ(describe(actual), describe(expected)) << "at 0x" << std::hex << address;
    if (describe(actual) != describe(expected)) {
      return inlined;  // one difference tells; a thousand more would bury it
    }
    inlined += expected.size() - 1;
  }
  EXPECT_EQ(fast.fallbacks(), 0U);
  return inlined;
}

TEST(Symbolizers, SameFramesAsBackwardThroughOptimizedInlinedCode) {
  ASSERT_GT(symbolizer_subject_run(20), 0);
  const auto start = reinterpret_cast<std::uintptr_t>(symbolizer_subject_code());
  const std::size_t inlined = expect_same_frames(start + 1, 2000);
  EXPECT_GT(inlined, 100U) << "the subject should have inlined frames to compare";
}

TEST(Symbolizers, SameFramesAsBackwardInUnoptimizedCode) {
  const auto start = reinterpret_cast<std::uintptr_t>(&describe);
  expect_same_frames(start + 1, 600);
}

TEST(Symbolizers, SameFramesAsBackwardInALibraryWithoutAranges) {
  // The index finds the unit by the units' own ranges: no fallback to backward-cpp, whose
  // libdw session would search for debug files with libdebuginfod.
  ASSERT_GT(no_aranges_subject_run(20), 0);
  const auto start = reinterpret_cast<std::uintptr_t>(no_aranges_subject_code());
  expect_same_frames(start + 1, 300);
}

TEST(Symbolizers, SameFramesAsBackwardInLibrariesWithoutDebugInformation) {
  BackwardSymbolizer reference;
  DwarfSymbolizer fast;
  void* (*libc_function)(std::size_t) = &::malloc;
  for (auto base : {reinterpret_cast<std::uintptr_t>(libc_function),
                    reinterpret_cast<std::uintptr_t>(static_cast<void (*)()>(&std::terminate))}) {
    for (std::uintptr_t address = base + 1; address < base + 64; ++address) {
      EXPECT_EQ(describe(fast.resolve(address)), describe(reference.resolve(address)));
    }
  }
}

}  // namespace
