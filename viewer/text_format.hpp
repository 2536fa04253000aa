// Small text helpers shared by dhat-view's commands.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "format/numbers.hpp"

namespace dhat::viewer {

// 1234567 -> "1,234,567"; negative values keep their sign.
inline std::string commas(std::int64_t value) { return format::with_commas_signed(value); }

// A whole decimal number up to `max` (command-line values); false otherwise.
[[nodiscard]] inline bool parse_count(const std::string& text, std::uint64_t* out,
                                      std::uint64_t max = 999'999'999'999'999'999ULL) {
  return format::parse_decimal(text, 0, max, out);
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

}  // namespace dhat::viewer
