// A heap assertion that fails: the profile is written first, so the failing state can be opened
// in dh_view, then the program stops with a message naming the file, the expression and both
// values. Run it, then open failing-assertion.json.
#include <dhat/dhat.hpp>

#include <memory>
#include <vector>

int main() {
  dhat::Profiler profiler = dhat::Profiler::builder().testing().file_name("failing-assertion.json").build();
  std::vector<std::unique_ptr<int>> numbers;  // not reserved: its growth is part of the profile
  for (int i = 0; i < 10; ++i) {
    numbers.push_back(std::make_unique<int>(i));  // NOLINT(performance-inefficient-vector-operation)
  }
  const dhat::HeapStats stats = dhat::HeapStats::get();
  DHAT_ASSERT_EQ(stats.curr_blocks, 10U);  // fails: the vector's own buffer is live too
  return 0;
}
