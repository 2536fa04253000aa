#include "report/symbolizer.hpp"

#include "report/unloaded_code.hpp"

namespace dhat::report {

bool ResolvedFrames::find(std::uintptr_t return_address, std::vector<Frame>* frames) {
  auto cached = frames_.find(return_address);
  if (cached != frames_.end()) {
    *frames = cached->second;
    return true;
  }
  if (recall_unloaded_frames(return_address, frames)) {
    frames_.emplace(return_address, *frames);
    return true;
  }
  return false;
}

const std::vector<Frame>& ResolvedFrames::keep(std::uintptr_t return_address, std::vector<Frame> frames) {
  return frames_.insert_or_assign(return_address, std::move(frames)).first->second;
}

}  // namespace dhat::report
