#include "core/signals_blocked.hpp"

#include <pthread.h>

#include <initializer_list>

namespace dhat::core {

void fill_asynchronous_signals(sigset_t* set) noexcept {
  sigfillset(set);
  for (const int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS}) {
    sigdelset(set, fault);
  }
}

SignalsBlocked::SignalsBlocked() noexcept {
  sigset_t blocked;
  fill_asynchronous_signals(&blocked);
  pthread_sigmask(SIG_BLOCK, &blocked, &before_);
}

SignalsBlocked::~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &before_, nullptr); }

}  // namespace dhat::core
