// The seam between symbolization and the rest of the report: what a return address is, as
// source-level frames (format::Frame, written in DHAT's frame text by format/frame_text.hpp).
//
// Contract: a return address resolves to one or more Frames, innermost first (inlined
// functions get their own entries with the same address, as Valgrind prints them); never empty.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "format/frame_text.hpp"

namespace dhat::report {

using format::Frame;

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
  [[nodiscard]] bool find(std::uintptr_t return_address, std::vector<Frame>* frames);
  const std::vector<Frame>& keep(std::uintptr_t return_address, std::vector<Frame> frames);
  std::size_t size() const noexcept { return frames_.size(); }

 private:
  std::unordered_map<std::uintptr_t, std::vector<Frame>> frames_;
};

}  // namespace dhat::report
