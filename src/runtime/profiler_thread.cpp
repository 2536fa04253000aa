#include "runtime/profiler_thread.hpp"

#include <signal.h>

#include <initializer_list>

namespace dhat::runtime {

int start_profiler_thread(pthread_t* thread, const pthread_attr_t* attributes, void* (*body)(void*),
                          void* argument) noexcept {
  sigset_t blocked;
  sigfillset(&blocked);
  for (const int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS}) {
    sigdelset(&blocked, fault);  // blocked, a fault would not be reported as the fault it is
  }
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &blocked, &previous);  // the new thread inherits the mask
  const int created = pthread_create(thread, attributes, body, argument);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return created;
}

}  // namespace dhat::runtime
