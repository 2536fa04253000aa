// A small program for the lifecycle tests: how it ends is chosen on the command line.
//   exit_probe exit FILE        leaks 777 bytes, then calls exit(5) with the Profiler alive
//   exit_probe return FILE      leaks 777 bytes, returns 7 from main
#include <dhat/dhat.hpp>

#include <cstdlib>
#include <cstring>

extern "C" __attribute__((noinline)) void* probe_leak(std::size_t n) { return std::malloc(n); }

int main(int argc, char** argv) {
  if (argc != 3) {
    return 2;
  }
  dhat::Profiler profiler = dhat::Profiler::builder().file_name(argv[2]).build();
  void* leak = probe_leak(777);
  asm volatile("" : : "r"(leak) : "memory");
  if (std::strcmp(argv[1], "exit") == 0) {
    std::exit(5);
  }
  return 7;
}
