// Small text helpers shared by dhat-view's commands.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "report/summary.hpp"

namespace dhat_view {

// 1234567 -> "1,234,567"; negative values keep their sign (digits: src/report/summary.cpp).
inline std::string commas(std::int64_t value) {
  const std::string digits =
      dhat::report::with_commas(value < 0 ? -static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value));
  return value < 0 ? "-" + digits : digits;
}

// A whole decimal number of at most `max_digits` digits (command-line values); false otherwise.
inline bool parse_count(const std::string& text, std::uint64_t* out, std::size_t max_digits = 18) {
  if (text.empty() || text.size() > max_digits || text.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  *out = std::stoull(text);
  return true;
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
