// A frame of a DHAT frame table, and its text: "0x4C2DB8F: function (file.c:123)", or
// "0x4C2DB8F: function (in /lib/x.so)" without line information (Valgrind's shape; dhat-rs adds
// a column, "file.rs:7:20").
//
// Contract: `format_frame` writes the shape; `parse_frame` reads back what any DHAT writer
// writes: parse_frame(format_frame(f)) gives f again (the function "???" stands for an empty
// one). A text without the "0x...: " prefix (ftbl[0] "[root]", hand-written files) parses with
// `has_address` false and the whole text, less a location, as the function. Parsing never fails:
// a text that is not a frame is all function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dhat::format {

struct Frame {
  std::uintptr_t address = 0;  // the call instruction's address (a return address - 1)
  std::string function;        // demangled; "" when unknown (written "???")
  std::string file;            // "" when there is no line information
  unsigned line = 0;
  std::string object;   // the binary or library holding the code ("" if unknown)
  unsigned column = 0;  // 0: none (only dhat-rs writes one)
  bool has_address = true;
};

std::string format_frame(const Frame& frame);
Frame parse_frame(std::string_view text);

// The text without its "0x...: " prefix: what stays the same across runs and builds, so that
// program points of two profiles can be matched.
std::string_view without_address(std::string_view text) noexcept;

}  // namespace dhat::format
