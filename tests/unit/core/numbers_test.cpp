#include "core/numbers.hpp"

#include <cstdint>

#include <gtest/gtest.h>

using forrealtime::core::parse_decimal;

TEST(Numbers, DecimalDigitsThatFit) {
  EXPECT_EQ(parse_decimal<std::uint64_t>("0"), 0u);
  EXPECT_EQ(parse_decimal<std::uint64_t>("007"), 7u);
  EXPECT_EQ(parse_decimal<std::uint64_t>("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(parse_decimal<std::uint32_t>("4294967295"), UINT32_MAX);
  EXPECT_EQ(parse_decimal<std::uint64_t>("1000", 1000), 1000u);
}

TEST(Numbers, RefusesEverythingElseWithoutThrowing) {
  for (const char* bad :
       {"", "18446744073709551616", "99999999999999999999", "999999999999999999999999999999", "-1",
        "+1", " 1", "1 ", "0x10", "1e3", "1.0", "１"})
    EXPECT_FALSE(parse_decimal<std::uint64_t>(bad)) << bad;
  EXPECT_FALSE(parse_decimal<std::uint32_t>("4294967296"));
  EXPECT_FALSE(parse_decimal<std::uint8_t>("256"));
  EXPECT_FALSE(parse_decimal<std::uint64_t>("1001", 1000));
  EXPECT_FALSE(parse_decimal<std::uint64_t>(std::string(5000, '9')));
}
