#include "auth/cors.hpp"

#include <gtest/gtest.h>

using namespace forrealtime::auth;

TEST(AuthCors, EchoesListedOrigins) {
  std::vector<std::string> list{"https://app.example", "http://localhost:3000"};
  auto h = cors_headers(list, "https://app.example");
  EXPECT_EQ(h.allow_origin, "https://app.example");
  EXPECT_TRUE(h.allow_credentials);
  EXPECT_TRUE(h.vary_origin);
  auto foreign = cors_headers(list, "https://evil.example");
  EXPECT_EQ(foreign.allow_origin, "");
  EXPECT_FALSE(foreign.allow_credentials);
  EXPECT_EQ(cors_headers(list, std::nullopt).allow_origin, "");
  std::vector<std::string> star{"*", "https://app.example"};
  EXPECT_EQ(cors_headers(star, "https://evil.example").allow_origin, "*");
  EXPECT_FALSE(cors_headers(star, "https://evil.example").allow_credentials);
  EXPECT_TRUE(cors_headers(star, "https://app.example").allow_credentials);
  EXPECT_EQ(cors_headers(star, "*").allow_origin, "*");
  EXPECT_FALSE(cors_headers(star, "*").allow_credentials);
}

TEST(AuthCors, StateChangesFromForeignOrigins) {
  std::vector<std::string> list{"https://app.example"};
  EXPECT_TRUE(origin_allowed(list, std::nullopt, "gw:8787")) << "curl sends no Origin";
  EXPECT_TRUE(origin_allowed(list, "https://app.example", "gw:8787"));
  EXPECT_TRUE(origin_allowed(list, "http://gw:8787", "gw:8787")) << "same origin";
  EXPECT_FALSE(origin_allowed(list, "http://gw:8787.evil", "gw:8787"));
  EXPECT_FALSE(origin_allowed(list, "https://evil.example", "gw:8787"));
  EXPECT_FALSE(origin_allowed(list, "null", "gw:8787"));
  EXPECT_FALSE(origin_allowed({}, "https://app.example", std::nullopt));
  EXPECT_TRUE(origin_allowed({"*"}, "https://evil.example", std::nullopt));
}
