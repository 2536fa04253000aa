// Per-thread "already inside the profiler" flag.
//
// Contract: a ReentrancyGuard that `entered()` owns the flag until it is destroyed; a nested one
// (an allocation made by the unwinder, by libc on the profiler's behalf, ...) does not, and the
// caller must then pass the allocation through unrecorded. Initial-exec TLS: reading it is one
// instruction and never calls __tls_get_addr, which could itself allocate.
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

extern DHAT_CONSTINIT thread_local bool t_inside_profiler DHAT_TLS DHAT_HIDDEN;

class ReentrancyGuard {
 public:
  ReentrancyGuard() noexcept : entered_(!t_inside_profiler) { t_inside_profiler = true; }
  ~ReentrancyGuard() {
    if (entered_) {
      t_inside_profiler = false;
    }
  }
  ReentrancyGuard(const ReentrancyGuard&) = delete;
  ReentrancyGuard& operator=(const ReentrancyGuard&) = delete;

  bool entered() const noexcept { return entered_; }

 private:
  bool entered_;
};

}  // namespace dhat::core
