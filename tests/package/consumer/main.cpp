// The quick-start pattern in a separate project.
#include <dhat/dhat.hpp>

#include <cstdlib>

extern "C" __attribute__((noinline)) void* consumer_site() { return std::malloc(4096); }

int main() {
  dhat::Profiler profiler = dhat::Profiler::builder().file_name("consumer.json").build();
  void* block = consumer_site();
  asm volatile("" : : "r"(block) : "memory");
  std::free(block);
  return 0;
}
