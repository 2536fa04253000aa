// Numbers as DHAT's tools print them (commas) and as people type them (bounded decimals).
#include <gtest/gtest.h>

#include <cstdint>

#include "format/numbers.hpp"

using dhat::format::parse_decimal;
using dhat::format::with_commas;
using dhat::format::with_commas_signed;

namespace {

TEST(Numbers, CommasEveryThreeDigits) {
  EXPECT_EQ(with_commas(0), "0");
  EXPECT_EQ(with_commas(12), "12");
  EXPECT_EQ(with_commas(123), "123");
  EXPECT_EQ(with_commas(1234), "1,234");
  EXPECT_EQ(with_commas(12345), "12,345");
  EXPECT_EQ(with_commas(1234567), "1,234,567");
  EXPECT_EQ(with_commas(UINT64_MAX), "18,446,744,073,709,551,615");
  EXPECT_EQ(with_commas_signed(-1234), "-1,234");
  EXPECT_EQ(with_commas_signed(INT64_MIN), "-9,223,372,036,854,775,808");
  EXPECT_EQ(with_commas_signed(999), "999");
}

TEST(Numbers, DecimalsWithinBoundsOnly) {
  std::uint64_t value = 7;
  EXPECT_TRUE(parse_decimal("12", 1, 128, &value));
  EXPECT_EQ(value, 12U);
  EXPECT_TRUE(parse_decimal("128", 1, 128, &value));
  EXPECT_EQ(value, 128U);
  value = 7;
  EXPECT_FALSE(parse_decimal("0", 1, 128, &value));
  EXPECT_FALSE(parse_decimal("129", 1, 128, &value));
  EXPECT_FALSE(parse_decimal("-3", 1, 128, &value));
  EXPECT_FALSE(parse_decimal("+3", 1, 128, &value));
  EXPECT_FALSE(parse_decimal(" 3", 1, 128, &value));
  EXPECT_FALSE(parse_decimal("12abc", 1, 128, &value));
  EXPECT_FALSE(parse_decimal("0x10", 1, 128, &value));
  EXPECT_FALSE(parse_decimal("", 1, 128, &value));
  EXPECT_EQ(value, 7U);  // untouched on failure
  // The whole range, and one past it (overflow, not wrap-around).
  EXPECT_TRUE(parse_decimal("18446744073709551615", 0, UINT64_MAX, &value));
  EXPECT_EQ(value, UINT64_MAX);
  EXPECT_FALSE(parse_decimal("18446744073709551616", 0, UINT64_MAX, &value));
  EXPECT_FALSE(parse_decimal("99999999999999999999999", 1, 128, &value));
}

}  // namespace
