// The writer must produce exactly what JavaScript's JSON.stringify produces; expected strings
// below were checked against node's JSON.stringify.
#include "core/json_text.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

using forrealtime::core::to_json;

static std::string js(const char* json) {
  boost::system::error_code ec;
  auto v = forrealtime::core::parse_json(json, ec);
  EXPECT_FALSE(ec) << json;
  return to_json(v);
}

TEST(JsonText, NumbersLikeJavaScript) {
  EXPECT_EQ(
      js("[0.1,1.5,100,-0.0,1e21,1e20,1e-7,0.000001,123456789012345680000,1.7976931348623157e308]"),
      "[0.1,1.5,100,0,1e+21,100000000000000000000,1e-7,0.000001,123456789012345680000,1."
      "7976931348623157e+308]");
  EXPECT_EQ(js("[9007199254740993, -9007199254740993, 18446744073709551615, 5e-324, 2.5e-8]"),
            "[9007199254740992,-9007199254740992,18446744073709552000,5e-324,2.5e-8]");
  EXPECT_EQ(js("[1.0, 2.50, 1E3, 12e-1]"), "[1,2.5,1000,1.2]");
}

TEST(JsonText, StringsEscapedLikeJsonStringify) {
  EXPECT_EQ(js(R"(["a\"b\\c\/d", "\u0001\b\f\n\r\t\u001f", "é✓😀", "\u007f"])"),
            "[\"a\\\"b\\\\c/d\",\"\\u0001\\b\\f\\n\\r\\t\\u001f\",\"é✓😀\",\"\u007f\"]");
}

TEST(JsonText, ObjectsKeepOrderAndNoWhitespace) {
  EXPECT_EQ(js(R"( { "b" : 1 , "a" : [ true , false , null , { } , [ ] ] } )"),
            R"({"b":1,"a":[true,false,null,{},[]]})");
}

TEST(JsonText, ParseRejectsWhatJsonParseRejects) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\":1} x", "01", "NaN", "'a'", "[1] [2]"}) {
    boost::system::error_code ec;
    forrealtime::core::parse_json(bad, ec);
    EXPECT_TRUE(ec) << bad;
  }
  boost::system::error_code ec;
  std::string deep(100, '[');
  deep += std::string(100, ']');
  forrealtime::core::parse_json(deep, ec);
  EXPECT_TRUE(ec) << "nesting beyond 64 levels";
}
