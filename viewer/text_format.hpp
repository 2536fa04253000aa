// Small text helpers shared by dhat-view's commands.
#pragma once

#include <cstdint>
#include <string>

namespace dhat_view {

// 1234567 -> "1,234,567"; negative values keep their sign.
inline std::string commas(std::int64_t value) {
  const bool negative = value < 0;
  std::string digits =
      std::to_string(negative ? -static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value));
  std::string out;
  const std::size_t lead = digits.size() % 3;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && i >= lead && (i - lead) % 3 == 0) {
      out += ',';
    }
    out += digits[i];
  }
  return negative ? "-" + out : out;
}

inline std::string signed_commas(std::int64_t value) { return (value > 0 ? "+" : "") + commas(value); }

// Cuts a line to `width` columns (bytes; frames are ASCII in practice), marking the cut.
inline std::string fit(const std::string& line, std::size_t width) {
  return line.size() <= width ? line : line.substr(0, width - 3) + "...";
}

inline std::string percent(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) {
    return "0.0%";
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return text;
}

}  // namespace dhat_view
