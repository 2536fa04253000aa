// One source-level frame of a program point, and how DHAT prints it.
//
// Contract: a return address resolves to one or more Frames, innermost first (inlined
// functions get their own entries with the same address, as Valgrind prints them).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace dhat::report {

struct Frame {
  std::uintptr_t address = 0;  // the call instruction's address (return address - 1)
  std::string function;        // demangled; "???" when unknown
  std::string file;            // "" when there is no line information
  unsigned line = 0;
  std::string object;  // the binary or library holding the code
};

// Valgrind's shape: "0x4C2DB8F: function (file.c:123)", or "0x4C2DB8F: function (in /lib/x.so)".
std::string format_frame(const Frame& frame);

// Frame lists per return address; the seam between symbolization and the rest of the report.
class Symbolizer {
 public:
  virtual ~Symbolizer() = default;
  // Frames for the code at `return_address`, innermost first; never empty.
  virtual std::vector<Frame> resolve(std::uintptr_t return_address) = 0;
};

// What symbolizers share: each return address is resolved once, and code unloaded since the
// run (report/unloaded_code.hpp) answers from what was remembered while it was mapped.
class ResolvedFrames {
 public:
  // True (and `frames` filled) if `return_address` needs no resolving.
  bool find(std::uintptr_t return_address, std::vector<Frame>* frames);
  const std::vector<Frame>& keep(std::uintptr_t return_address, std::vector<Frame> frames);
  std::size_t size() const noexcept { return frames_.size(); }

 private:
  std::unordered_map<std::uintptr_t, std::vector<Frame>> frames_;
};

}  // namespace dhat::report
