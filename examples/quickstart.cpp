// Quick start: one line at the top of main profiles the whole run.
//
// Run it, then open the dhat-heap.json it writes in Valgrind's dh_view.html.
#include <dhat/dhat.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

// A cache that keeps every entry: it shows up at t-end as still live.
std::map<int, std::string>* leaky_cache() {
  static auto* cache = new std::map<int, std::string>();
  return cache;
}

// Builds a large temporary buffer: the heap's peak (t-gmax).
std::size_t build_report(std::size_t lines) {
  std::vector<std::string> report;
  for (std::size_t i = 0; i < lines; ++i) {
    report.push_back("line " + std::to_string(i) + " of a report that is long enough to need the heap");
  }
  std::size_t total = 0;
  for (const auto& line : report) {
    total += line.size();
  }
  return total;
}

// Many short-lived small blocks: "Total (blocks), short-lived" in the viewer.
int churn(int rounds) {
  int sum = 0;
  for (int i = 0; i < rounds; ++i) {
    auto value = std::make_unique<int>(i);
    // Keep the compiler from eliding the new/delete pair: the point is to show them.
    asm volatile("" : : "r"(value.get()) : "memory");
    sum += *value;
  }
  return sum;
}

}  // namespace

int main() {
  dhat::Profiler profiler;  // the one line: profile until the end of main

  for (int i = 0; i < 100; ++i) {
    (*leaky_cache())[i] = "cached value number " + std::to_string(i) + " with some padding";
  }
  const std::size_t bytes = build_report(10000);
  const int sum = churn(50000);
  return bytes > 0 && sum != 0 ? 0 : 1;
}
