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
#include <cstdlib>
#include <string>
#include <type_traits>
#include <utility>

// The library's version, defined here and nowhere else (CMakeLists.txt reads it from these lines).
#define DHAT_VERSION_MAJOR 0
#define DHAT_VERSION_MINOR 1
#define DHAT_VERSION_PATCH 0

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

// Ad hoc profiling counters: events recorded with ad_hoc_event() and the sum of their weights.
struct AdHocStats {
  std::uint64_t total_events = 0;
  std::uint64_t total_units = 0;

  // The current numbers; all zero unless an ad hoc profiler is running.
  static AdHocStats get() noexcept;
};

namespace detail {
// ad_hoc_event's work (out of line).
void record_ad_hoc_event(std::uint64_t weight) noexcept;
}  // namespace detail

// Records one ad hoc event of `weight` units at the caller's stack. Does nothing unless a
// profiler built with `.ad_hoc()` is running. Inline, with nothing the compiler may drop after the
// call: a function whose last statement is ad_hoc_event(w) would otherwise jump to it (a tail
// call at -O2), leaving its own frame off the event's stack. Always inlined, even at -O0: an
// out-of-line copy would be a frame of dhat-cpp's own on top of every event's stack.
__attribute__((always_inline)) inline void ad_hoc_event(std::uint64_t weight) noexcept {
#if DHAT_ENABLED
  detail::record_ad_hoc_event(weight);
  asm volatile("");  // the call above is never the caller's last instruction
#else
  static_cast<void>(weight);
#endif
}

// Settings of one profiling run. Unset fields take the environment's value, then the default.
struct Options {
  std::string file_name;       // output path; "" = $DHAT_OUT or dhat-heap.json (dhat-ad-hoc.json)
  std::size_t max_frames = 0;  // frames kept per program point; 0 = $DHAT_MAX_FRAMES or 12
  bool testing = false;        // write the profile only when a dhat assertion fails; no summary
  bool ad_hoc = false;         // record ad_hoc_event() calls instead of heap allocations
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
  // Testing mode: dhat assertions may be used; the profile is written when one fails.
  Builder& testing() {
    options_.testing = true;
    return *this;
  }
  // Ad hoc mode: records ad_hoc_event() calls (dhat-ad-hoc.json) instead of the heap.
  Builder& ad_hoc() {
    options_.ad_hoc = true;
    return *this;
  }
  Profiler build() const { return Profiler(options_); }

 private:
  Options options_;
};

inline Profiler::Builder Profiler::builder() { return Builder(); }

// Writes the running profile as it is now (t-end = now) without stopping it, for long-running
// services. `path` may contain %p; "" means dhat-snapshot.%p.json. Returns false (with one
// `dhat:` line on stderr) when nothing runs or the file cannot be written. The same happens on
// a signal when DHAT_SNAPSHOT_SIGNAL is set (e.g. SIGUSR2) at profiler start.
bool write_snapshot(const std::string& path = "");

// What a scoped section measured. `blocks`/`bytes`: allocated inside the section (a realloc
// counts as a block, as in DHAT's totals). `peak_live_bytes`: the section's own peak, the most
// live bytes above the level at which it opened. `live_bytes_change`: live bytes at the end
// minus at the start (negative when the section freed more than it allocated).
struct SectionStats {
  std::uint64_t blocks = 0;
  std::uint64_t bytes = 0;
  std::uint64_t peak_live_bytes = 0;
  std::int64_t live_bytes_change = 0;
};

// Measures the allocations between its construction and destruction (or stop()), for the
// current thread and for the whole process. Works inside a running heap profiler; without one it
// runs a private, quiet profiler for its lifetime (no file is written). Thread numbers count
// what this thread allocated and freed, whoever allocated the freed blocks.
class Section {
 public:
  Section() noexcept;
  ~Section();
  Section(const Section&) = delete;
  Section& operator=(const Section&) = delete;

  // Ends the measurement early; later calls of process()/thread() return the frozen numbers.
  void stop() noexcept;
  SectionStats process() const noexcept;
  SectionStats thread() const noexcept;
  // False in a switched-off build, or if the section could not measure (another kind of run).
  bool measuring() const noexcept { return measuring_; }

 private:
  SectionStats measure_process() const noexcept;
  SectionStats measure_thread() const noexcept;

  bool measuring_ = false;
  bool stopped_ = false;
  bool owns_private_run_ = false;
  int watermark_ = -1;
  HeapStats process_start_{};
  std::uint64_t thread_blocks_ = 0, thread_bytes_ = 0;
  std::int64_t thread_live_ = 0, thread_saved_peak_ = 0;
  SectionStats process_end_{}, thread_end_{};
};

// "Warm up once, then N more iterations allocate at most this much": the check behind the
// GoogleTest helpers in <dhat/gtest.hpp>, usable without GoogleTest.
struct AllocationLimits {
  std::uint64_t max_blocks = 0;
  std::uint64_t max_bytes = UINT64_MAX;
  int iterations = 100;
};

struct AllocationCheck {
  bool ok = true;
  std::uint64_t blocks = 0;  // allocated by the measured iterations (whole process)
  std::uint64_t bytes = 0;
  std::string report;  // on failure: the numbers and the allocating call sites, symbolized
};

namespace detail {
// Type-erased body so that the library needs no template instantiation of user code.
AllocationCheck check_allocations(void (*body)(void*), void* context, const AllocationLimits& limits);
// "" while a profiler built with .testing() runs; otherwise why dhat assertions refuse to work.
std::string testing_mode_refusal();
// For the assertion macros: writes the profile of the running testing-mode profiler now (the run
// goes on) and returns a sentence naming the file; refuses (returns "" and sets *refusal)
// outside testing mode.
std::string save_profile_for_failed_assertion(std::string* refusal);
// Aborts with `refusal` unless a testing-mode profiler runs.
void require_testing_mode(const char* expression, const char* file, int line);
[[noreturn]] void fail_assertion(const char* expression, const std::string& values, const char* file, int line);
template <typename T>
std::string describe(const T& value) {
  if constexpr (std::is_arithmetic_v<T>) {
    return std::to_string(value);
  } else {
    return "?";
  }
}
}  // namespace detail

// Runs `body` once to warm up, then `limits.iterations` more times, and checks what those
// iterations allocated against the limits.
template <typename Body>
AllocationCheck check_allocations(Body&& body, const AllocationLimits& limits = AllocationLimits{}) {
  auto call = [](void* context) { (*static_cast<std::remove_reference_t<Body>*>(context))(); };
  return detail::check_allocations(call, const_cast<void*>(static_cast<const void*>(&body)), limits);
}

#if !DHAT_ENABLED
// Switched-off build: nothing is recorded, nothing is written, nothing is linked.
inline Profiler::Profiler(const Options&) {}
inline Profiler::~Profiler() {}
inline HeapStats HeapStats::get() noexcept { return HeapStats{}; }
inline AdHocStats AdHocStats::get() noexcept { return AdHocStats{}; }
inline bool write_snapshot(const std::string&) { return false; }
inline Section::Section() noexcept {}
inline Section::~Section() {}
inline void Section::stop() noexcept {}
inline SectionStats Section::process() const noexcept { return SectionStats{}; }
inline SectionStats Section::thread() const noexcept { return SectionStats{}; }
namespace detail {
inline AllocationCheck check_allocations(void (*body)(void*), void* context, const AllocationLimits& limits) {
  for (int i = 0; i <= limits.iterations; ++i) {
    body(context);
  }
  AllocationCheck check;
  check.report = "dhat: allocation checks are unavailable: dhat-cpp is switched off (DHAT_ENABLE=OFF)";
  return check;
}
inline std::string testing_mode_refusal() {
  return "dhat: assertions are unavailable: dhat-cpp is switched off (DHAT_ENABLE=OFF)";
}
inline void require_testing_mode(const char*, const char*, int) {}
inline std::string save_profile_for_failed_assertion(std::string* refusal) {
  *refusal = "dhat: assertions are unavailable: dhat-cpp is switched off (DHAT_ENABLE=OFF)";
  return "";
}
[[noreturn]] inline void fail_assertion(const char*, const std::string&, const char*, int) { std::abort(); }
}  // namespace detail
#endif

}  // namespace dhat

// Assertions on heap numbers, in the spirit of dhat-rs's dhat::assert!/assert_eq!/assert_ne!.
// They need a profiler built with `.testing()`: on failure they first write the profile (so the
// failing state can be opened in dh_view), then print the expression, both values and the file,
// and abort. Outside testing mode they refuse with a clear message (and abort). In a switched-off
// build they check nothing. For GoogleTest, <dhat/gtest.hpp> has non-aborting forms.
#if DHAT_ENABLED
#define DHAT_ASSERT(condition)                                            \
  do {                                                                    \
    ::dhat::detail::require_testing_mode(#condition, __FILE__, __LINE__); \
    if (!(condition)) {                                                   \
      ::dhat::detail::fail_assertion(#condition, "", __FILE__, __LINE__); \
    }                                                                     \
  } while (false)
#define DHAT_DETAIL_ASSERT_OP(left, right, op)                                                                   \
  do {                                                                                                           \
    ::dhat::detail::require_testing_mode(#left " " #op " " #right, __FILE__, __LINE__);                          \
    const auto& dhat_left_ = (left);                                                                             \
    const auto& dhat_right_ = (right);                                                                           \
    if (!(dhat_left_ op dhat_right_)) {                                                                          \
      ::dhat::detail::fail_assertion(                                                                            \
          #left " " #op " " #right,                                                                              \
          "left: " + ::dhat::detail::describe(dhat_left_) + ", right: " + ::dhat::detail::describe(dhat_right_), \
          __FILE__, __LINE__);                                                                                   \
    }                                                                                                            \
  } while (false)
#define DHAT_ASSERT_EQ(left, right) DHAT_DETAIL_ASSERT_OP(left, right, ==)
#define DHAT_ASSERT_NE(left, right) DHAT_DETAIL_ASSERT_OP(left, right, !=)
#else
#define DHAT_ASSERT(condition) static_cast<void>(sizeof(condition))
#define DHAT_ASSERT_EQ(left, right) static_cast<void>(sizeof((left) == (right)))
#define DHAT_ASSERT_NE(left, right) static_cast<void>(sizeof((left) != (right)))
#endif
