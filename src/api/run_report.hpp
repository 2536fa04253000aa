// The end of a run: turn the recorder's frozen state into dhat-heap.json and the summary.
//
// Contract: call after core::stop_recording() returned true; releases the recorder (so a new
// run may start) as soon as the numbers are copied out, then symbolizes, writes and prints.
// Never throws; any failure is one `dhat:` line on stderr.
#pragma once

#include "api/settings.hpp"

namespace dhat::api {

void write_report_and_release(const RunSettings& settings);

// The viewer on this machine, for the summary line; "" if none was found.
std::string find_stock_viewer();

}  // namespace dhat::api
