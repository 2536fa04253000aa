// Numbers as DHAT's tools print them and as people type them.
//
// Contract: pure functions, no locale. `parse_decimal` accepts only plain decimal digits (no
// sign, no spaces, no "0x"), checks the bounds and overflow, and never allocates (the profiler
// parses its environment settings with it inside someone else's process).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dhat::format {

// 1234567 -> "1,234,567" (the stderr summary's and dhat-view's shape); negative keeps its sign.
std::string with_commas(std::uint64_t value);
std::string with_commas_signed(std::int64_t value);

// A whole decimal number in [min, max] into `*out`; false (and `*out` untouched) for anything else.
[[nodiscard]] bool parse_decimal(std::string_view text, std::uint64_t min, std::uint64_t max,
                                 std::uint64_t* out) noexcept;

}  // namespace dhat::format
