// A signal that arrives while the profiler itself calls into libc on a program's thread, whose
// handler allocates and frees:  own_call_probe FILE THREADS
//
// The program defines pthread_setspecific and _Unwind_Backtrace (calling the real ones through
// dlsym(RTLD_NEXT)); so the profiler's own calls reach them: pthread_setspecific when a thread
// first records (its buffer and its stack memo), _Unwind_Backtrace at every stack walk under
// DHAT_UNWINDER=libgcc. In the threads it starts, each call first raises SIGUSR1 at its own
// thread; the handler allocates 24 bytes at handler_site and frees the block its previous call
// allocated (so each thread's last one is live at the end). Each of THREADS threads allocates 10 blocks of 100
// bytes at worker_site and frees them. Linked with dhat::dhat, or switched off under dhat-run
// (built with -rdynamic: the preload library's calls reach the program's definitions only if the
// program exports them). Prints "handler calls: N" and returns 0.
//
// Before, the handler ran inside the profiler's ReentrancyGuard: its allocation was taken for the
// profiler's own and not recorded, and so was its free.
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <unwind.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <dhat/dhat.hpp>

extern "C" __attribute__((noinline)) void* handler_site(std::size_t n) { return std::malloc(n); }
extern "C" __attribute__((noinline)) void* worker_site(std::size_t n) { return std::malloc(n); }

namespace {

using SetSpecific = int (*)(pthread_key_t, const void*);
using Backtrace = _Unwind_Reason_Code (*)(_Unwind_Trace_Fn, void*);
SetSpecific g_real_setspecific = nullptr;
Backtrace g_real_backtrace = nullptr;

std::atomic<long> g_handler_calls{0};
std::atomic<long> g_raised{0};
// volatile: GCC takes malloc for a function that reads no memory of the program's and would drop
// the store before the calls as dead.
thread_local volatile bool t_armed = false;  // a worker thread: raise in the profiler's calls
thread_local bool t_in_handler = false;      // never from the handler's own (its walk reaches them too)
thread_local void* t_previous = nullptr;     // the handler's last block, freed by its next call

void on_usr1(int) {
  t_in_handler = true;
  void* block = handler_site(24);
  std::free(t_previous);
  t_previous = block;
  g_handler_calls.fetch_add(1, std::memory_order_relaxed);
  t_in_handler = false;
}

void raise_if_armed() {
  if (t_armed && !t_in_handler) {
    g_raised.fetch_add(1, std::memory_order_relaxed);
    raise(SIGUSR1);
  }
}

void work() {
  t_armed = true;
  void* blocks[10];
  for (void*& block : blocks) {
    block = worker_site(100);
  }
  for (void* block : blocks) {
    std::free(block);
  }
  t_armed = false;
  // The handler's last block stays live: allocated at handler_site and never freed.
}

}  // namespace

// Found at the first call: under dhat-run the profiler's first calls come before main.
extern "C" int pthread_setspecific(pthread_key_t key, const void* value) {
  raise_if_armed();
  if (g_real_setspecific == nullptr) {
    g_real_setspecific = reinterpret_cast<SetSpecific>(dlsym(RTLD_NEXT, "pthread_setspecific"));
  }
  return g_real_setspecific(key, value);
}

extern "C" _Unwind_Reason_Code _Unwind_Backtrace(_Unwind_Trace_Fn trace, void* argument) {
  raise_if_armed();
  if (g_real_backtrace == nullptr) {
    g_real_backtrace = reinterpret_cast<Backtrace>(dlsym(RTLD_NEXT, "_Unwind_Backtrace"));
  }
  return g_real_backtrace(trace, argument);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: own_call_probe FILE THREADS\n");
    return 2;
  }
  dhat::Profiler profiler = dhat::Profiler::builder().file_name(argv[1]).build();
  struct sigaction action {};
  action.sa_handler = &on_usr1;
  action.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &action, nullptr);
  const int count = std::atoi(argv[2]);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    threads.emplace_back(&work);
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  std::printf("handler calls: %ld\nraised: %ld\n", g_handler_calls.load(), g_raised.load());
  return 0;
}
