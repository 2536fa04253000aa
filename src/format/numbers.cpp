#include "format/numbers.hpp"

namespace dhat::format {

std::string with_commas(std::uint64_t value) {
  const std::string digits = std::to_string(value);
  std::string out;
  const std::size_t lead = digits.size() % 3;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && i >= lead && (i - lead) % 3 == 0) {
      out += ',';
    }
    out += digits[i];
  }
  return out;
}

std::string with_commas_signed(std::int64_t value) {
  const std::uint64_t magnitude = value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
  return value < 0 ? "-" + with_commas(magnitude) : with_commas(magnitude);
}

bool parse_decimal(std::string_view text, std::uint64_t min, std::uint64_t max, std::uint64_t* out) noexcept {
  if (text.empty()) {
    return false;
  }
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (max - digit) / 10) {
      return false;  // above max, or would overflow
    }
    value = value * 10 + digit;
  }
  if (value < min) {
    return false;
  }
  *out = value;
  return true;
}

}  // namespace dhat::format
