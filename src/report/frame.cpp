#include "report/frame.hpp"

#include <cstdio>

namespace dhat::report {

std::string format_frame(const Frame& frame) {
  char address[32];
  std::snprintf(address, sizeof address, "0x%llX: ", static_cast<unsigned long long>(frame.address));
  std::string text = address;
  text += frame.function.empty() ? "???" : frame.function;
  if (!frame.file.empty()) {
    text += " (" + frame.file + ":" + std::to_string(frame.line) + ")";
  } else if (!frame.object.empty()) {
    text += " (in " + frame.object + ")";
  }
  return text;
}

}  // namespace dhat::report
