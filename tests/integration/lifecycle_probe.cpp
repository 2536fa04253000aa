// Allocations outside main's body: a static object's constructor (before main) and destructor
// (after main), and a thread_local object's destructor at thread exit. Linked with dhat::dhat
// (profiler in main), and built switched off to run under dhat-run (preloaded), by test_lifecycle.
// (A program that links dhat::dhat carries its own hooks, which win over a preloaded library's.)
#include <dhat/dhat.hpp>

#include <cstdlib>
#include <cstring>
#include <thread>

extern "C" __attribute__((noinline)) void* static_ctor_site(std::size_t n) { return std::malloc(n); }
extern "C" __attribute__((noinline)) void* tls_dtor_site(std::size_t n) { return std::malloc(n); }
extern "C" __attribute__((noinline)) void* tls_ctor_site(std::size_t n) { return std::malloc(n); }

namespace {

struct StaticHolder {
  void* block;
  StaticHolder() : block(static_ctor_site(1111)) {}
  ~StaticHolder() { std::free(block); }
};
StaticHolder g_holder;

struct PerThread {
  void* block = tls_ctor_site(222);
  ~PerThread() {
    std::free(block);
    void* last = tls_dtor_site(333);  // allocated and freed while the thread is exiting
    asm volatile("" : : "r"(last) : "memory");
    std::free(last);
  }
};
thread_local PerThread t_per_thread;

}  // namespace

int main(int argc, char** argv) {
  const bool linked = argc > 1 && std::strcmp(argv[1], "linked") == 0;
  if (linked) {
    dhat::Profiler profiler = dhat::Profiler::builder().file_name(argc > 2 ? argv[2] : "lifecycle.json").build();
    std::thread worker([] { asm volatile("" : : "r"(t_per_thread.block) : "memory"); });
    worker.join();
    return 0;
  }
  std::thread worker([] { asm volatile("" : : "r"(t_per_thread.block) : "memory"); });
  worker.join();
  return 0;
}
