// A memory barrier on every thread of the process at once, paid for by the caller alone.
//
// Contract: `enable_process_barrier()` once (idempotent; false if the kernel or a seccomp
// filter refuses membarrier). After `process_barrier()` returns true, every store another
// thread made before that moment is visible to the caller, and none of that thread's later
// instructions ran before it. Both are system calls: call them rarely, never per event.
//
// Why: the threads' event buffers need each thread's "in flight" mark visible before it reads
// the time-stamp counter. A fence per event (an exchange) drained each thread's store buffer
// and was half of the profiled run's time on four threads; membarrier moves that cost to the
// thread applying a batch, once per batch (about half a microsecond).
#pragma once

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace dhat::core {

[[nodiscard]] inline bool enable_process_barrier() noexcept {
  const long supported = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  if (supported < 0 || (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) {
    return false;
  }
  return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

[[nodiscard]] inline bool process_barrier() noexcept {
  return syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0;
}

}  // namespace dhat::core
