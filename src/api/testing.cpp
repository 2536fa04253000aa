// Testing support: the assertion helpers behind DHAT_ASSERT* and <dhat/gtest.hpp>, and the
// "warm up, then N iterations allocate at most this much" check with the allocating sites named.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "core/recorder.hpp"
#include "core/reentrancy_guard.hpp"
#include "dhat/dhat.hpp"
#include "format/numbers.hpp"
#include "runtime/run_control.hpp"
#include "runtime/run_report.hpp"
#include "runtime/site_growth.hpp"

namespace dhat::detail {

namespace {

constexpr const char* kNeedsTestingMode =
    "dhat: error: dhat assertions need a running dhat::Profiler built with .testing() "
    "(dhat::Profiler::builder().testing().build())";

}  // namespace

std::string testing_mode_refusal() {
  runtime::RunSettings settings;
  if (!runtime::running_settings(&settings) || !settings.testing) {
    return kNeedsTestingMode;
  }
  return "";
}

void require_testing_mode(const char* expression, const char* file, int line) {
  const std::string refusal = testing_mode_refusal();
  if (!refusal.empty()) {
    std::fprintf(stderr, "%s; refusing `%s` at %s:%d\n", refusal.c_str(), expression, file, line);
    std::abort();
  }
}

std::string save_profile_for_failed_assertion(std::string* refusal) {
  runtime::RunSettings settings;
  if (!runtime::running_settings(&settings) || !settings.testing) {
    *refusal = kNeedsTestingMode;
    return "";
  }
  const std::string path = runtime::expand_file_pattern(settings.file_name, static_cast<long>(getpid()));
  const runtime::WrittenProfile written = runtime::write_profile(settings, path);
  if (!written.error.empty()) {
    return "the profile could not be written to '" + path + "': " + written.error;
  }
  return "the profile has been saved to " + path;
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
  body(context);  // the warm-up: caches, capacities and first-use initialization may allocate
  bool private_run = false;
  if (!core::is_recording()) {
    private_run = !core::is_ad_hoc_run() && runtime::acquire_private_run();
    if (!private_run) {
      for (int i = 0; i < limits.iterations; ++i) {
        body(context);
      }
      check.ok = false;
      check.report = "dhat: cannot check allocations: an ad hoc profiler is running";
      return check;
    }
  }
  runtime::SiteTotals before;
  const bool have_totals = runtime::take_site_totals(&before);
  const HeapStats start = HeapStats::get();
  for (int i = 0; i < limits.iterations; ++i) {
    body(context);
  }
  const HeapStats end = HeapStats::get();
  check.blocks = end.total_blocks - start.total_blocks;
  check.bytes = end.total_bytes - start.total_bytes;
  check.ok = check.blocks <= limits.max_blocks && check.bytes <= limits.max_bytes;
  if (!check.ok) {
    core::ReentrancyGuard not_recorded;
    check.report =
        std::to_string(limits.iterations) + " iterations after a warm-up allocated " +
        format::with_commas(check.blocks) + " blocks (" + format::with_commas(check.bytes) + " bytes); the limit is " +
        format::with_commas(limits.max_blocks) + " blocks" +
        (limits.max_bytes == UINT64_MAX ? std::string() : " and " + format::with_commas(limits.max_bytes) + " bytes") +
        "\n" + (have_totals ? runtime::describe_grown_sites(before, 8) : std::string());
  }
  if (private_run) {
    runtime::release_private_run();
  }
  return check;
}

}  // namespace dhat::detail
