// The recorder's lock: test-and-test-and-set with a short spin, then yielding the CPU.
//
// Contract: a BasicLockable (lock/unlock), not recursive, never allocates, no syscalls unless
// it has to wait (sched_yield).
//
// Why not std::mutex: the critical section is a few dozen nanoseconds (a table update and some
// counters). Under contention a futex-based mutex puts waiters to sleep and wakes them with
// system calls, each costing far more than the work it protects: four threads allocating in a
// loop on two cores ran 30x slower than alone. Spinning briefly lets the holder finish; yielding
// after that keeps a preempted holder from being starved by the spinners.
#pragma once

#include <sched.h>

#include <atomic>

#include "core/arch.hpp"  // spin_pause

namespace dhat::core {

class SpinLock {
 public:
  void lock() noexcept {
    for (;;) {
      if (!locked_.exchange(true, std::memory_order_acquire)) {
        return;
      }
      for (int spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
        if (spins < kSpinsBeforeYield) {
          spin_pause();
        } else {
          sched_yield();
          spins = 0;
        }
      }
    }
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }
  // A hint only (it may change the moment after): whether some thread holds the lock.
  bool held() const noexcept { return locked_.load(std::memory_order_relaxed); }

 private:
  static constexpr int kSpinsBeforeYield = 64;
  std::atomic<bool> locked_{false};
};

}  // namespace dhat::core
