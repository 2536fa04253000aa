// Testing support: the assertion helpers behind DHAT_ASSERT* and <dhat/gtest.hpp>, and the
// "warm up, then N iterations allocate at most this much" check with the allocating sites named.
// The strings made here are handed to the program: they are made here, with its operator new,
// from text the runtime sends (runtime/text_sink.hpp).
#include <cstdio>
#include <cstdlib>

#include "dhat/dhat.hpp"
#include "runtime/allocation_check.hpp"
#include "runtime/run_control.hpp"

namespace dhat::detail {

namespace {

constexpr const char* kNeedsTestingMode =
    "dhat: error: dhat assertions need a running dhat::Profiler built with .testing() "
    "(dhat::Profiler::builder().testing().build())";

void append_to_string(void* context, const char* text, std::size_t size) {
  static_cast<std::string*>(context)->append(text, size);
}

}  // namespace

std::string testing_mode_refusal() { return runtime::testing_run_is_running() ? "" : kNeedsTestingMode; }

void require_testing_mode(const char* expression, const char* file, int line) {
  const std::string refusal = testing_mode_refusal();
  if (!refusal.empty()) {
    std::fprintf(stderr, "%s; refusing `%s` at %s:%d\n", refusal.c_str(), expression, file, line);
    std::abort();
  }
}

std::string save_profile_for_failed_assertion(std::string* refusal) {
  std::string saved;
  if (!runtime::save_testing_profile(&append_to_string, &saved)) {
    *refusal = kNeedsTestingMode;
  }
  return saved;
}

void fail_assertion(const char* expression, const std::string& values, const char* file, int line) {
  std::string refusal;
  const std::string saved = save_profile_for_failed_assertion(&refusal);
  if (!refusal.empty()) {
    std::fprintf(stderr, "%s; refusing `%s` at %s:%d\n", refusal.c_str(), expression, file, line);
  } else {
    std::fprintf(stderr, "dhat: assertion failed at %s:%d: `%s`%s; %s\n", file, line, expression,
                 values.empty() ? "" : (" (" + values + ")").c_str(), saved.c_str());
  }
  std::abort();
}

AllocationCheck check_allocations(void (*body)(void*), void* context, const AllocationLimits& limits) {
  AllocationCheck check;
  const runtime::AllocationCheckOutcome outcome =
      runtime::check_allocations(body, context, limits, &append_to_string, &check.report);
  check.ok = outcome.ok;
  check.blocks = outcome.blocks;
  check.bytes = outcome.bytes;
  return check;
}

}  // namespace dhat::detail
