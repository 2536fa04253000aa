#include "report/unloaded_code.hpp"

#include <mutex>
#include <unordered_map>

namespace dhat::report {

namespace {

struct Store {
  std::mutex mutex;
  std::unordered_map<std::uintptr_t, std::vector<Frame>> frames;
};

Store& store() {
  static auto* instance = new Store();  // never destroyed: reports may run during static destruction
  return *instance;
}

}  // namespace

void remember_unloaded_frames(std::uintptr_t return_address, const std::vector<Frame>& frames) {
  Store& s = store();
  std::lock_guard<std::mutex> hold(s.mutex);
  s.frames[return_address] = frames;
}

bool recall_unloaded_frames(std::uintptr_t return_address, std::vector<Frame>* frames) {
  Store& s = store();
  std::lock_guard<std::mutex> hold(s.mutex);
  auto found = s.frames.find(return_address);
  if (found == s.frames.end()) {
    return false;
  }
  *frames = found->second;
  return true;
}

}  // namespace dhat::report
