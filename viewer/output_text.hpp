// Writing a file dhat-view makes (a flame graph, a merged profile) without ever losing what the
// user already has there.
//
// Contract: `write_output` writes `text` to `out` and returns true, or returns false with a
// sentence in `error`. "-" is stdout. A regular file or a new name gets a temporary file beside
// it, renamed over it once complete (a failed write leaves the old file as it was); a symbolic
// link is followed and its target written the same way; anything else that exists (a device, a
// FIFO, /dev/stdout) is written in place, never replaced by a regular file.
#pragma once

#include <string>

namespace dhat::viewer {

[[nodiscard]] bool write_output(const std::string& out, const std::string& text, std::string* error);

}  // namespace dhat::viewer
