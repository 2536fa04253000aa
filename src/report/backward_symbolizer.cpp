#include "report/backward_symbolizer.hpp"

#define BACKWARD_HAS_DW 1
#include <backward.hpp>

namespace dhat::report {

struct BackwardSymbolizer::Impl {
  backward::TraceResolver resolver;
};

BackwardSymbolizer::BackwardSymbolizer() : impl_(std::make_unique<Impl>()) {}
BackwardSymbolizer::~BackwardSymbolizer() = default;

std::vector<Frame> BackwardSymbolizer::resolve(std::uintptr_t return_address) {
  std::vector<Frame> known;
  if (resolved_.find(return_address, &known)) {
    return known;
  }
  // A return address points after the call; the call itself (and its line) is one byte before.
  const std::uintptr_t call_address = return_address - 1;
  backward::ResolvedTrace trace(backward::Trace(reinterpret_cast<void*>(call_address), 0));
  trace = impl_->resolver.resolve(trace);

  // backward's libdw result: `source` holds the innermost line (from the line table) and
  // `inliners` the inlined calls innermost first, each named after the inlined function and
  // located at its call site in the next outer function. The outermost function is the symbol.
  std::vector<Frame> frames;
  std::string file = trace.source.filename;
  unsigned line = trace.source.line;
  for (const auto& inlined : trace.inliners) {
    frames.push_back(Frame{call_address, inlined.function, file, line, trace.object_filename});
    file = inlined.filename;
    line = inlined.line;
  }
  const std::string& outer_function = trace.object_function.empty() ? trace.source.function : trace.object_function;
  frames.push_back(Frame{call_address, outer_function, file, line, trace.object_filename});
  return resolved_.keep(return_address, std::move(frames));
}

}  // namespace dhat::report
