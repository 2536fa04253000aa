// Symbolizer for the running process, built on backward-cpp's libdw resolver.
//
// Contract: resolves each address once and caches the answer; call only after recording has
// stopped (it allocates freely). This is the only component that includes backward.hpp (the
// header defines global macros that must not leak into the hooks).
#pragma once

#include <memory>

#include "report/symbolizer.hpp"

namespace dhat::report {

class BackwardSymbolizer final : public Symbolizer {
 public:
  BackwardSymbolizer();
  ~BackwardSymbolizer() override;
  std::vector<Frame> resolve(std::uintptr_t return_address) override;
  std::size_t addresses_resolved() const noexcept { return resolved_.size(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ResolvedFrames resolved_;
};

}  // namespace dhat::report
