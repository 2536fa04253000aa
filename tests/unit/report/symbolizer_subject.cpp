// Code for the symbolizer comparison, built with -O2 so that it has inlined calls, lexical
// blocks and out-of-line copies (see tests/CMakeLists.txt).
#include <algorithm>
#include <map>
#include <numeric>
#include <string>
#include <vector>

namespace subject {

namespace {
inline int square(int x) { return x * x; }
inline int sum_of_squares(const std::vector<int>& values) {
  int total = 0;
  for (int v : values) {
    total += square(v);
  }
  return total;
}
}  // namespace

struct Counter {
  std::map<std::string, int> counts;
  void add(const std::string& word) { ++counts[word]; }
};

__attribute__((noinline)) int work(int n) {
  std::vector<int> values(static_cast<std::size_t>(n));
  std::iota(values.begin(), values.end(), 1);
  std::sort(values.begin(), values.end(), [](int a, int b) { return a > b; });
  Counter counter;
  for (int i = 0; i < n; ++i) {
    counter.add(std::to_string(i % 7));
  }
  return sum_of_squares(values) + static_cast<int>(counter.counts.size());
}

}  // namespace subject

// Code addresses for the test: the start of `work` (the test scans the bytes after it).
extern "C" const void* symbolizer_subject_code() { return reinterpret_cast<const void*>(&subject::work); }
extern "C" int symbolizer_subject_run(int n) { return subject::work(n); }
