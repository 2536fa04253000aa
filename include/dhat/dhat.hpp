// dhat-cpp public API: the only header users include.
//
// Contract: construct one `dhat::Profiler` at the top of `main`. While it lives, every heap
// allocation in the process is recorded; when it is destroyed (or at `exit()` while it is
// alive) the profile is written to `dhat-heap.json` (DHAT format, version 2) and a summary is
// printed on stderr. With the library switched off at build time (CMake `DHAT_ENABLE=OFF`,
// which defines DHAT_ENABLED=0) every name below still exists as an inline no-op, so user code
// never needs an #ifdef.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#ifndef DHAT_ENABLED
#define DHAT_ENABLED 0
#endif

namespace dhat {

// Whole-process heap counters, with DHAT's rules (realloc counts as a new block in the totals).
// Reading them allocates nothing and records nothing.
struct HeapStats {
  std::uint64_t total_blocks = 0;  // blocks ever allocated
  std::uint64_t total_bytes = 0;   // bytes ever allocated
  std::uint64_t curr_blocks = 0;   // blocks live now
  std::uint64_t curr_bytes = 0;    // bytes live now
  std::uint64_t max_blocks = 0;    // blocks live at the global peak (t-gmax)
  std::uint64_t max_bytes = 0;     // bytes live at the global peak (t-gmax)

  // The current numbers; all zero when no profiler is running (or the library is off).
  static HeapStats get() noexcept;
};

// Settings of one profiling run. Unset fields take the environment's value, then the default.
struct Options {
  std::string file_name;       // output path; "" = $DHAT_OUT or "dhat-heap.json"
  std::size_t max_frames = 0;  // frames kept per program point; 0 = $DHAT_MAX_FRAMES or 12
};

class Profiler {
 public:
  class Builder;

  // Starts profiling with the defaults (and the environment's overrides).
  Profiler() : Profiler(Options{}) {}
  explicit Profiler(const Options& options);
  // Stops profiling, writes the profile and prints the summary (if this profiler is the one
  // that is running).
  ~Profiler();

  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;
  Profiler(Profiler&&) = delete;
  Profiler& operator=(Profiler&&) = delete;

  static Builder builder();

  // True if this object started profiling (false for a second, refused, profiler and when
  // the library is switched off).
  bool is_running() const noexcept { return owns_run_; }

 private:
  bool owns_run_ = false;
};

// dhat-rs-style builder: `dhat::Profiler profiler = dhat::Profiler::builder().file_name("x.json").build();`
class Profiler::Builder {
 public:
  Builder& file_name(std::string path) {
    options_.file_name = std::move(path);
    return *this;
  }
  // Keep at most `frames` frames per program point (after the profiler's own frames are removed).
  Builder& trim_backtraces(std::size_t frames) {
    options_.max_frames = frames;
    return *this;
  }
  Profiler build() const { return Profiler(options_); }

 private:
  Options options_;
};

inline Profiler::Builder Profiler::builder() { return Builder(); }

#if !DHAT_ENABLED
// Switched-off build: nothing is recorded, nothing is written, nothing is linked.
inline Profiler::Profiler(const Options&) {}
inline Profiler::~Profiler() {}
inline HeapStats HeapStats::get() noexcept { return HeapStats{}; }
#endif

}  // namespace dhat
