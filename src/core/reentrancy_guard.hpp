// Per-thread "already inside the profiler" mark.
//
// Contract: a ReentrancyGuard that `entered()` owns the mark (kInsideProfiler) until it is
// destroyed; a nested one (an allocation made by the unwinder, by libc on the profiler's behalf,
// ...) does not, and the caller must then pass the allocation through unrecorded. An
// AllocatorCall is the same around a hook's call of the next allocator (kInsideAllocator): calls
// it makes into the hooks are its own, unrecorded, but a signal handler's may be told from them
// (allocator_code.hpp). Initial-exec TLS: reading it is one instruction and never calls
// __tls_get_addr, which could itself allocate.
#pragma once

// Initial-exec TLS, and constant initialization said on the declaration: without it every access
// from another file would first test (and maybe call) the variable's TLS init function.
#define DHAT_TLS __attribute__((tls_model("initial-exec")))
#if defined(__clang__)
// The GNU spelling: unlike [[clang::...]], it may follow `extern`.
#define DHAT_CONSTINIT __attribute__((require_constant_initialization))
#else
#define DHAT_CONSTINIT __constinit  // GCC's C++20 constinit, available in C++17 as an extension
#endif

// For the recorder's globals declared in one file and defined in another: -fvisibility=hidden
// covers definitions only, and a default-visibility declaration is reached through the GOT (one
// more load per access; in the preload library, a real one).
#define DHAT_HIDDEN __attribute__((visibility("hidden")))

namespace dhat::core {

// Values of t_inside_profiler (non-zero: the thread is inside; tests read it as a truth value).
inline constexpr unsigned char kOutsideProfiler = 0;
inline constexpr unsigned char kInsideProfiler = 1;
inline constexpr unsigned char kInsideAllocator = 2;

extern DHAT_CONSTINIT thread_local unsigned char t_inside_profiler DHAT_TLS DHAT_HIDDEN;

// The profiler's own code: what it allocates through the hooks is not recorded. Inside an
// AllocatorCall too (the mark says profiler until this guard ends, then allocator again): a call
// the profiler makes there (a free's buffer registration) is never taken for a handler's.
class ReentrancyGuard {
 public:
  ReentrancyGuard() noexcept : before_(t_inside_profiler) { t_inside_profiler = kInsideProfiler; }
  ~ReentrancyGuard() { t_inside_profiler = before_; }
  ReentrancyGuard(const ReentrancyGuard&) = delete;
  ReentrancyGuard& operator=(const ReentrancyGuard&) = delete;

  // False when nested in another ReentrancyGuard.
  bool entered() const noexcept { return before_ != kInsideProfiler; }

 private:
  unsigned char before_;
};

// A hook's call of the next allocator (when the thread is not inside already).
class AllocatorCall {
 public:
  AllocatorCall() noexcept : entered_(t_inside_profiler == kOutsideProfiler) {
    if (entered_) {
      t_inside_profiler = kInsideAllocator;
    }
  }
  ~AllocatorCall() {
    if (entered_) {
      t_inside_profiler = kOutsideProfiler;
    }
  }
  AllocatorCall(const AllocatorCall&) = delete;
  AllocatorCall& operator=(const AllocatorCall&) = delete;

 private:
  bool entered_;
};

}  // namespace dhat::core
