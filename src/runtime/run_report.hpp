// Turning the recorder's state into a DHAT file and the stderr summary.
//
// Contract: never throws; failures come back as text (or one `dhat:` line on stderr for the
// final report). `write_profile` works on a running profile (a snapshot, t-end = now) and on a
// stopped one; the recorder's lock is held only while the numbers are copied out, never while
// symbolizing or writing.
#pragma once

#include <string>

#include "runtime/settings.hpp"

namespace dhat::runtime {

struct WrittenProfile {
  bool copied = false;  // false: nothing was running
  std::string error;    // "" when the file was written
  std::string summary;  // the dhat-rs-shaped summary lines
};

// Writes the current state of the run to `path`.
[[nodiscard]] WrittenProfile write_profile(const RunSettings& settings, const std::string& path);

// The end of a run (after core::stop_recording()): writes, releases the recorder, prints.
void write_report_and_release(const RunSettings& settings);

}  // namespace dhat::runtime
