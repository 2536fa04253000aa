// Frames of code that has since been unloaded (dlclose): resolved while it was still mapped and
// kept here for the final report.
//
// Contract: thread-safe. `remember` stores a resolution; `recall` finds it. The symbolizer asks
// here before resolving (an unmapped address no longer resolves).
#pragma once

#include <cstdint>
#include <vector>

#include "report/symbolizer.hpp"

namespace dhat::report {

void remember_unloaded_frames(std::uintptr_t return_address, const std::vector<Frame>& frames);
[[nodiscard]] bool recall_unloaded_frames(std::uintptr_t return_address, std::vector<Frame>* frames);

}  // namespace dhat::report
