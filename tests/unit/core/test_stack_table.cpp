// Interning stacks into program points: equal stacks share one, prefixes do not, memory comes back.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/stack_capture.hpp"
#include "core/stack_table.hpp"
#include "internal_alloc_plain.hpp"

using namespace dhat::core;

namespace {

TEST(StackTable, EqualStacksShareAProgramPoint) {
  StackTable table;
  std::vector<std::vector<std::uintptr_t>> stacks;
  for (std::uintptr_t i = 0; i < 5000; ++i) {
    stacks.push_back({0x400000 + i, 0x500000 + i % 13, 0x600000});
  }
  stacks.push_back({0x400000});  // a prefix of another stack is a different stack
  std::vector<PpId> ids;
  for (const auto& s : stacks) {
    const auto depth = static_cast<std::uint32_t>(s.size());
    ids.push_back(table.intern(s.data(), depth, hash_stack(s.data(), depth)));
  }
  EXPECT_EQ(table.size(), stacks.size());
  for (std::size_t i = 0; i < stacks.size(); ++i) {
    const auto depth = static_cast<std::uint32_t>(stacks[i].size());
    ASSERT_EQ(table.intern(stacks[i].data(), depth, hash_stack(stacks[i].data(), depth)), ids[i]);
    ASSERT_EQ(table.depth(ids[i]), depth);
    ASSERT_EQ(std::vector<std::uintptr_t>(table.frames(ids[i]), table.frames(ids[i]) + depth), stacks[i]);
  }
  EXPECT_EQ(table.size(), stacks.size());
}

TEST(StackTable, ClearingGivesEveryByteBack) {
  // Tables are cleared when a run's report has its copy: memory they keep is the program's.
  const std::size_t before = internal_bytes_held_for_tests();
  {
    StackTable table;
    for (std::uintptr_t i = 0; i < 20000; ++i) {
      const std::uintptr_t stack[3] = {0x400000 + i, 0x500000, 0x600000};
      ASSERT_NE(table.intern(stack, 3, hash_stack(stack, 3)), kNoPp);
    }
    EXPECT_GT(internal_bytes_held_for_tests(), before + std::size_t{20000} * 3 * sizeof(std::uintptr_t));
    table.clear();
    EXPECT_EQ(internal_bytes_held_for_tests(), before);
  }
}

}  // namespace
