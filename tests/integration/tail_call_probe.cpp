// Functions whose last statement is a call (compiled at -O2, where that call becomes a jump): an
// ad hoc event (dhat-cpp's own entry point: never a jump, whatever the flags) and a malloc (the
// program's own code: a jump unless the target asks dhat_keep_tail_call_frames()).
//
// usage: tail_call_probe ad-hoc|heap OUT.json
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dhat/dhat.hpp>

extern "C" {
// The event is the function's last statement.
__attribute__((noinline)) void probe_event(std::uint64_t weight) { dhat::ad_hoc_event(weight); }
// `return malloc(n)`: a jump at -O2 without -fno-optimize-sibling-calls.
__attribute__((noinline)) void* probe_block(std::size_t bytes) { return std::malloc(bytes); }
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fputs("usage: tail_call_probe ad-hoc|heap OUT.json\n", stderr);
    return 2;
  }
  const bool ad_hoc = std::strcmp(argv[1], "ad-hoc") == 0;
  dhat::Options options;
  options.file_name = argv[2];
  options.ad_hoc = ad_hoc;
  dhat::Profiler profiler(options);
  if (ad_hoc) {
#pragma GCC unroll 4
    for (int i = 0; i < 8; ++i) {  // unrolled: each copy of the call is its own call site
      probe_event(10);
    }
    return 0;
  }
  void* blocks[8];
  for (void*& block : blocks) {
    block = probe_block(100);
    asm volatile("" : : "r"(block) : "memory");
  }
  for (void* block : blocks) {
    std::free(block);
  }
  return 0;
}
