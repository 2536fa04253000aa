// Asynchronous signals held back while the profiler runs code of its own on a program's thread.
//
// Contract: `fill_asynchronous_signals` fills a set with every signal but the faults a thread
// raises itself (SIGSEGV SIGBUS SIGFPE SIGILL SIGTRAP SIGSYS: blocked, a fault would not be
// reported as the fault it is). `SignalsBlocked` blocks that set in this thread for its lifetime
// and then restores the mask the thread had. `OwnLibcCall` is a SignalsBlocked and then a
// ReentrancyGuard (released in the opposite order): for the profiler's calls into code that may
// allocate through the hooks on a program's thread (pthread_setspecific, libgcc's unwinder, the
// symbolizer at dlclose). Async-signal-safe; allocates nothing.
//
// Why: inside a ReentrancyGuard, an allocation is taken for the profiler's own and not recorded,
// so a signal handler that allocated there was lost (and one that interrupted glibc's malloc
// called on the profiler's behalf entered it again, which the program itself never does). A
// signal that arrives meanwhile is delivered when the mask is restored, after the guard is gone:
// its handler's events are then recorded as any other (or held, inside the recorder's critical
// code: handler_events.hpp). The cost, two system calls, is only paid on these rare paths.
#pragma once

#include <signal.h>

#include "core/reentrancy_guard.hpp"

namespace dhat::core {

void fill_asynchronous_signals(sigset_t* set) noexcept;

class SignalsBlocked {
 public:
  SignalsBlocked() noexcept;
  ~SignalsBlocked();
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t before_;
};

class OwnLibcCall {
 public:
  OwnLibcCall() noexcept = default;
  OwnLibcCall(const OwnLibcCall&) = delete;
  OwnLibcCall& operator=(const OwnLibcCall&) = delete;

  // Whether this call owns the guard (false: nested inside another of the profiler's regions).
  bool entered() const noexcept { return guard_.entered(); }

 private:
  SignalsBlocked blocked_;  // first: blocked before the guard is taken, restored after it is gone
  ReentrancyGuard guard_;
};

}  // namespace dhat::core
