// The scenario profiled twice by the Valgrind comparison test: built with dhat::dhat (our
// profile) and with the switched-off API (run under `valgrind --tool=dhat`). No output on stdout:
// the C library's stdout buffer would be one more block on one side only.
#include <dhat/dhat.hpp>

#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#define SITE extern "C" __attribute__((noinline))
SITE void* vg_malloc_site(std::size_t n) { return std::malloc(n); }
SITE void* vg_calloc_site(std::size_t n) { return std::calloc(n, 4); }
SITE void* vg_realloc_origin(std::size_t n) { return std::malloc(n); }
SITE void* vg_realloc_step(void* block, std::size_t n) { return std::realloc(block, n); }
SITE int* vg_new_site(int value) { return new int[static_cast<std::size_t>(value)]; }
SITE void* vg_peak_site(std::size_t n) { return std::malloc(n); }
SITE void* vg_leak_site(std::size_t n) { return std::malloc(n); }
SITE std::size_t vg_container_site(int count) {
  std::map<int, std::string> table;
  for (int i = 0; i < count; ++i) {
    table[i] = std::string(40 + static_cast<std::size_t>(i % 5), 'x');
  }
  std::size_t total = 0;
  for (const auto& entry : table) {
    total += entry.second.size();
  }
  return total;
}
#undef SITE

static void keep(void* p) { asm volatile("" : : "r"(p) : "memory"); }

int main(int argc, char** argv) {
  dhat::Profiler profiler = dhat::Profiler::builder().file_name(argc > 1 ? argv[1] : "dhat-heap.json").build();

  std::vector<void*> blocks;
  blocks.reserve(64);
  for (std::size_t i = 1; i <= 20; ++i) {
    void* block = vg_malloc_site(i * 24);
    keep(block);
    std::free(block);
    blocks.push_back(vg_calloc_site(i));
  }
  void* grown = vg_realloc_origin(100);
  grown = vg_realloc_step(grown, 5000);
  grown = vg_realloc_step(grown, 60);
  for (int i = 1; i <= 10; ++i) {
    int* numbers = vg_new_site(i * 3);
    keep(numbers);
    delete[] numbers;
  }
  // The global peak: 200 kB live next to everything above, then freed.
  void* peak = vg_peak_site(200000);
  keep(peak);
  std::free(peak);
  const std::size_t total = vg_container_site(300);
  void* leak = vg_leak_site(4321);
  keep(leak);
  for (void* block : blocks) {
    std::free(block);
  }
  std::free(grown);
  return total > 0 ? 0 : 1;
}
