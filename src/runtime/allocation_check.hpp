// "Warm up once, then N iterations allocate at most this much": the measurement behind
// dhat::check_allocations and <dhat/gtest.hpp>'s helpers.
//
// Contract: runs `body` once, then `limits.iterations` times while counting what the whole
// process allocates (in a private quiet run when no profiler is running; refused, with a report,
// while an ad hoc one runs). On failure, the report (the numbers, then the call sites that
// allocated, symbolized) goes to `report` (runtime/text_sink.hpp says why not a std::string).
#pragma once

#include <cstdint>

#include "dhat/dhat.hpp"
#include "runtime/text_sink.hpp"

namespace dhat::runtime {

struct AllocationCheckOutcome {
  bool ok = true;
  std::uint64_t blocks = 0;  // allocated by the measured iterations (whole process)
  std::uint64_t bytes = 0;
};

[[nodiscard]] AllocationCheckOutcome check_allocations(void (*body)(void*), void* context,
                                                       const AllocationLimits& limits, TextSink report,
                                                       void* report_context);

}  // namespace dhat::runtime
