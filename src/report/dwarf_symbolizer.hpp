// Symbolizer for the running process, on libdw directly, with an index per compilation unit.
//
// Contract: the same frames as BackwardSymbolizer (function, file:line, inlined calls innermost
// first, object), each address resolved once and cached; call only after recording has stopped
// (it allocates freely). Code in a library with no debug information is named from its symbol
// table. Code that .debug_aranges does not cover (Clang leaves the section out by default) is
// placed by asking every unit for its ranges; only addresses outside every known module go to
// backward-cpp. Separate debug files are found on local disk only (report/local_debuginfo.hpp).
//
// Why not backward-cpp for everything: its libdw resolver walks every DIE of the unit for each
// address (12 ms per address in a unit that includes nlohmann_json: a program with a few
// thousand allocation sites took minutes to write its profile). Here each unit's functions are
// indexed once by address range, and each address visits only the DIEs on its own path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "report/symbolizer.hpp"

namespace dhat::report {

class DwarfSymbolizer final : public Symbolizer {
 public:
  DwarfSymbolizer();
  ~DwarfSymbolizer() override;
  DwarfSymbolizer(const DwarfSymbolizer&) = delete;
  DwarfSymbolizer& operator=(const DwarfSymbolizer&) = delete;

  std::vector<Frame> resolve(std::uintptr_t return_address) override;
  std::size_t addresses_resolved() const noexcept { return resolved_.size(); }
  // Addresses the index could not place, resolved by backward-cpp instead.
  std::size_t fallbacks() const noexcept { return fallbacks_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ResolvedFrames resolved_;
  std::size_t fallbacks_ = 0;
};

}  // namespace dhat::report
