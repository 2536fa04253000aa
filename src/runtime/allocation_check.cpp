#include "runtime/allocation_check.hpp"

#include <string>

#include "core/recorder.hpp"
#include "core/signals_blocked.hpp"
#include "format/numbers.hpp"
#include "runtime/run_control.hpp"
#include "runtime/site_growth.hpp"

namespace dhat::runtime {

namespace {

void send(TextSink sink, void* context, const std::string& text) { sink(context, text.data(), text.size()); }

}  // namespace

AllocationCheckOutcome check_allocations(void (*body)(void*), void* context, const AllocationLimits& limits,
                                         TextSink report, void* report_context) {
  AllocationCheckOutcome outcome;
  body(context);  // the warm-up: caches, capacities and first-use initialization may allocate
  bool private_run = false;
  if (!core::is_recording()) {
    private_run = !core::is_ad_hoc_run() && acquire_private_run();
    if (!private_run) {
      for (int i = 0; i < limits.iterations; ++i) {
        body(context);
      }
      outcome.ok = false;
      send(report, report_context, "dhat: cannot check allocations: an ad hoc profiler is running");
      return outcome;
    }
  }
  SiteTotals before;
  const bool have_totals = take_site_totals(&before);
  const core::GlobalCounters start = core::current_counters();
  for (int i = 0; i < limits.iterations; ++i) {
    body(context);
  }
  const core::GlobalCounters end = core::current_counters();
  outcome.blocks = end.total_blocks - start.total_blocks;
  outcome.bytes = end.total_bytes - start.total_bytes;
  outcome.ok = outcome.blocks <= limits.max_blocks && outcome.bytes <= limits.max_bytes;
  if (!outcome.ok) {
    const core::OwnLibcCall not_recorded;  // the message's allocations
    send(report, report_context,
         std::to_string(limits.iterations) + " iterations after a warm-up allocated " +
             format::with_commas(outcome.blocks) + " blocks (" + format::with_commas(outcome.bytes) +
             " bytes); the limit is " + format::with_commas(limits.max_blocks) + " blocks" +
             (limits.max_bytes == UINT64_MAX ? std::string()
                                             : " and " + format::with_commas(limits.max_bytes) + " bytes") +
             "\n" + (have_totals ? describe_grown_sites(before, 8) : std::string()));
  }
  if (private_run) {
    release_private_run();
  }
  return outcome;
}

}  // namespace dhat::runtime
