// A program on bump_allocator.c whose SIGUSR1 handler allocates while the thread is inside the
// allocator: every malloc of the allocator raises the signal before it allocates (armed for the
// loop only). Linked with dhat::dhat, or switched off under dhat-run:  bump_probe FILE ROUNDS
// Each round allocates and frees a block at probe_loop (malloc) and one at probe_calloc (calloc,
// which the allocator makes with its own malloc, through its PLT: a call into the hooks from the
// allocator's code, not the program's). The handler allocates and frees 24 bytes at
// handler_site. Prints "handler calls: N".
//
// bump_probe FILE ROUNDS reuse: single-threaded; the allocator hands a freed block's address to
// the next malloc of its size and raises the signal in free, once the block is on its list. Each
// round allocates and frees 24 bytes at probe_loop; the handler allocates 24 bytes at
// handler_site (the address just freed) and frees the block its previous call kept: one is live
// at the end.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <dhat/dhat.hpp>

extern "C" void bump_raise_in_malloc(int signal);
extern "C" void bump_reuse_in_free(int signal);

extern "C" __attribute__((noinline)) void* handler_site(std::size_t n) { return std::malloc(n); }
extern "C" __attribute__((noinline)) void* probe_loop(std::size_t n) { return std::malloc(n); }
extern "C" __attribute__((noinline)) void* probe_calloc(std::size_t n) { return std::calloc(n, 1); }

namespace {

std::atomic<long> g_handler_calls{0};

void on_usr1(int) {
  std::free(handler_site(24));
  g_handler_calls.fetch_add(1, std::memory_order_relaxed);
}

void* g_kept = nullptr;  // "reuse": the handler's last block

void keep_one(int) {
  void* block = handler_site(24);
  std::free(g_kept);
  g_kept = block;
  g_handler_calls.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fputs("usage: bump_probe FILE ROUNDS [reuse]\n", stderr);
    return 2;
  }
  const long rounds = std::atol(argv[2]);
  const bool reuse = argc == 4 && std::string(argv[3]) == "reuse";
  dhat::Profiler profiler = dhat::Profiler::builder().file_name(argv[1]).build();
  struct sigaction action {};
  action.sa_handler = reuse ? &keep_one : &on_usr1;
  action.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &action, nullptr);
  if (reuse) {
    bump_reuse_in_free(SIGUSR1);
    for (long i = 0; i < rounds; ++i) {
      void* block = probe_loop(24);
      asm volatile("" : : "r"(block) : "memory");
      std::free(block);
    }
    bump_reuse_in_free(0);
    std::printf("handler calls: %ld\n", g_handler_calls.load());
    return 0;
  }
  bump_raise_in_malloc(SIGUSR1);
  for (long i = 0; i < rounds; ++i) {
    void* block = probe_loop(32);
    asm volatile("" : : "r"(block) : "memory");
    std::free(block);
    void* zeroed = probe_calloc(48);
    asm volatile("" : : "r"(zeroed) : "memory");
    std::free(zeroed);
  }
  bump_raise_in_malloc(0);
  std::printf("handler calls: %ld\n", g_handler_calls.load());
  return 0;
}
