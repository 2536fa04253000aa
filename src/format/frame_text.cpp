#include "format/frame_text.hpp"

#include <cstdio>

#include "format/numbers.hpp"

namespace dhat::format {

namespace {

constexpr std::string_view kUnknownFunction = "???";

// "file:line" or "file:line:column" with decimal numbers; false for anything else (so that a
// function name ending in "(...)" is not mistaken for a location).
bool parse_file_line(std::string_view text, Frame* out) {
  const std::size_t last = text.rfind(':');
  if (last == std::string_view::npos || last == 0) {
    return false;
  }
  std::uint64_t first_number = 0;
  if (!parse_decimal(text.substr(last + 1), 0, ~0U, &first_number)) {
    return false;
  }
  const std::size_t before = text.rfind(':', last - 1);
  std::uint64_t line = 0;
  if (before != std::string_view::npos && before != 0 &&
      parse_decimal(text.substr(before + 1, last - before - 1), 0, ~0U, &line)) {
    out->file = std::string(text.substr(0, before));
    out->line = static_cast<unsigned>(line);
    out->column = static_cast<unsigned>(first_number);
    return true;
  }
  out->file = std::string(text.substr(0, last));
  out->line = static_cast<unsigned>(first_number);
  return true;
}

}  // namespace

std::string format_frame(const Frame& frame) {
  std::string text;
  if (frame.has_address) {
    char address[32];
    std::snprintf(address, sizeof address, "0x%llX: ", static_cast<unsigned long long>(frame.address));
    text = address;
  }
  text += frame.function.empty() ? kUnknownFunction : std::string_view(frame.function);
  if (!frame.file.empty()) {
    text += " (" + frame.file + ":" + std::to_string(frame.line);
    if (frame.column != 0) {
      text += ":" + std::to_string(frame.column);
    }
    text += ")";
  } else if (!frame.object.empty()) {
    text += " (in " + frame.object + ")";
  }
  return text;
}

std::string_view without_address(std::string_view text) noexcept {
  if (text.substr(0, 2) == "0x") {
    const std::size_t colon = text.find(": ");
    if (colon != std::string_view::npos) {
      return text.substr(colon + 2);
    }
  }
  return text;
}

Frame parse_frame(std::string_view text) {
  Frame frame;
  const std::string_view rest = without_address(text);
  frame.has_address = rest.size() != text.size();
  if (frame.has_address) {
    const std::string_view hex = text.substr(2, text.size() - rest.size() - 4);
    std::uint64_t address = 0;
    for (const char c : hex) {
      const int digit = c >= '0' && c <= '9'   ? c - '0'
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                               : -1;
      if (digit < 0) {
        break;
      }
      address = address << 4 | static_cast<std::uint64_t>(digit);
    }
    frame.address = static_cast<std::uintptr_t>(address);
  }
  std::string_view function = rest;
  // The location is the last " (...)" that closes the text, if it reads as one.
  const std::size_t open = rest.rfind(" (");
  if (open != std::string_view::npos && !rest.empty() && rest.back() == ')') {
    const std::string_view inside = rest.substr(open + 2, rest.size() - open - 3);
    if (inside.substr(0, 3) == "in ") {
      frame.object = std::string(inside.substr(3));
      function = rest.substr(0, open);
    } else if (parse_file_line(inside, &frame)) {
      function = rest.substr(0, open);
    }
  }
  frame.function = function == kUnknownFunction ? "" : std::string(function);
  return frame;
}

}  // namespace dhat::format
