// A plugin (a shared library a plain program loads with dlopen) linked with dhat::dhat: it runs
// a Profiler of its own while it works. Loading it must work: the profiler's initial-exec TLS
// has to fit the few hundred bytes glibc keeps for libraries loaded after start.
#include <dhat/dhat.hpp>

#include <cstdlib>
#include <vector>

extern "C" __attribute__((noinline)) void* plugin_site(std::size_t n) { return std::malloc(n); }

// Profiles 10 blocks of 100 bytes (9 freed) into `path`.
extern "C" __attribute__((visibility("default"))) long plugin_run(const char* path) {
  dhat::Profiler profiler = dhat::Profiler::builder().file_name(path).build();
  std::vector<void*> blocks;
  blocks.reserve(10);
  for (int i = 0; i < 10; ++i) {
    blocks.push_back(plugin_site(100));
  }
  for (int i = 1; i < 10; ++i) {
    std::free(blocks[i]);
  }
  return 0;
}
