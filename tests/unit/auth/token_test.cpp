#include "auth/token.hpp"

#include <gtest/gtest.h>

using namespace forrealtime::auth;

TEST(AuthToken, HeaderThenCookieThenQuery) {
  const std::string_view c = "forrealtime_token";
  EXPECT_EQ(find_token("Bearer abc", "forrealtime_token=def", "token=ghi", c), "abc");
  EXPECT_EQ(find_token("bearer  abc ", std::nullopt, "", c), "abc");
  EXPECT_EQ(find_token("Basic xyz", "a=1; forrealtime_token=def; b=2", "token=ghi", c), "def");
  EXPECT_EQ(find_token(std::nullopt, "forrealtime_token=\"q\"", "", c), "q");
  EXPECT_EQ(find_token(std::nullopt, "other=1", "channel=a&token=g%2Bh", c), "g+h");
  EXPECT_EQ(find_token("Bearer ", "x_forrealtime_token=1", "tokens=1", c), std::nullopt);
  EXPECT_EQ(find_token(std::nullopt, "forrealtime_token=def", "", ""), std::nullopt)
      << "no cookie name: cookies are not read";
  EXPECT_EQ(find_token(std::nullopt, std::nullopt, "token=&token=b", c), "b");
}

TEST(AuthToken, CookieValue) {
  EXPECT_EQ(cookie_value("a=1;b=2", "b"), "2");
  EXPECT_EQ(cookie_value(" a = 1 ; b=2", "a"), "1");
  EXPECT_EQ(cookie_value("ab=1", "a"), std::nullopt);
  EXPECT_EQ(cookie_value("junk; a=", "a"), "");
}

TEST(AuthToken, RedactTarget) {
  EXPECT_EQ(redact_target("/api/realtime?channel=a&token=eyJ.x.y"),
            "/api/realtime?channel=a&token=REDACTED");
  EXPECT_EQ(redact_target("/api/realtime?token=a&channel=b&%74oken=c&TOKEN=d"),
            "/api/realtime?token=REDACTED&channel=b&%74oken=REDACTED&TOKEN=REDACTED");
  EXPECT_EQ(redact_target("/a?b%zz=secret&c=1"), "/a?b%zz=REDACTED&c=1");
  EXPECT_EQ(redact_target("/api/history?channel=a"), "/api/history?channel=a");
  EXPECT_EQ(redact_target("/plain"), "/plain");
  EXPECT_EQ(redact_target("/a?token"), "/a?token=REDACTED");
}
