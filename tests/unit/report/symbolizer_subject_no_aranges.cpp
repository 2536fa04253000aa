// A library built with -O2 -g whose .debug_aranges section is removed after linking (Clang
// leaves it out by default): the symbolizer must find its units by their own address ranges.
#include <numeric>
#include <string>
#include <vector>

namespace {
inline int doubled(int x) { return 2 * x; }
}  // namespace

extern "C" __attribute__((noinline)) int no_aranges_subject_run(int n) {
  std::vector<int> values(static_cast<std::size_t>(n));
  std::iota(values.begin(), values.end(), 1);
  std::string text;
  for (int v : values) {
    text += std::to_string(doubled(v));
  }
  return static_cast<int>(text.size());
}

extern "C" const void* no_aranges_subject_code() { return reinterpret_cast<const void*>(&no_aranges_subject_run); }
