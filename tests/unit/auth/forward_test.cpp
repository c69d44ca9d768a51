#include "auth/forward.hpp"

#include <gtest/gtest.h>

using namespace forrealtime::auth;
using K = ForwardDecision::Kind;

TEST(AuthForward, Body) {
  std::vector<std::string> ch{"room:1", "a\"b"};
  EXPECT_EQ(forward_body(Operation::subscribe, ch),
            R"({"operation":"subscribe","channels":["room:1","a\"b"]})");
  EXPECT_EQ(forward_body(Operation::emit, {}), R"({"operation":"emit","channels":[]})");
}

TEST(AuthForward, Answers) {
  EXPECT_EQ(interpret_answer(200, "").kind, K::allow);
  EXPECT_EQ(interpret_answer(204, "").ttl_secs, 0u);
  EXPECT_EQ(interpret_answer(200, R"({"ttl":30})").ttl_secs, 30u);
  EXPECT_EQ(interpret_answer(200, R"({"ttl":1.9})").ttl_secs, 1u);
  EXPECT_EQ(interpret_answer(200, R"({"ttl":99999999})").ttl_secs, 86400u);
  EXPECT_EQ(interpret_answer(200, R"({"ttl":-5})").ttl_secs, 0u);
  EXPECT_EQ(interpret_answer(200, R"({"ttl":"5"})").ttl_secs, 0u);
  EXPECT_EQ(interpret_answer(200, "not json").kind, K::allow);
  EXPECT_EQ(interpret_answer(401, "").kind, K::unauthenticated);
  EXPECT_EQ(interpret_answer(403, "").kind, K::forbidden);
  for (unsigned s : {0u, 100u, 302u, 400u, 404u, 429u, 500u, 503u})
    EXPECT_EQ(interpret_answer(s, "").kind, K::unavailable) << s;
}

TEST(AuthForward, SubjectOfTheAnswer) {
  auto d = interpret_answer(200, R"({"ttl":5,"subject":"ada"})");
  EXPECT_EQ(d.kind, K::allow);
  EXPECT_EQ(d.subject, "ada");
  EXPECT_EQ(d.ttl_secs, 5u);
  EXPECT_EQ(interpret_answer(200, R"({"ttl":5})").subject, "");
  EXPECT_EQ(interpret_answer(200, R"({"subject":null})").kind, K::allow);
  EXPECT_EQ(interpret_answer(200, R"({"subject":null})").subject, "");
  EXPECT_EQ(interpret_answer(401, R"({"subject":"ada"})").subject, "");
  // A subject the service got wrong fails closed rather than becoming none.
  for (auto body : {R"({"subject":42})", R"({"subject":""})", R"({"subject":"a\nb"})",
                    R"({"subject":"a\u0000b"})", R"({"subject":["ada"]})"})
    EXPECT_EQ(interpret_answer(200, body).kind, K::unavailable) << body;
  EXPECT_EQ(interpret_answer(200, "{\"subject\":\"" + std::string(257, 'x') + "\"}").kind,
            K::unavailable);
  EXPECT_EQ(interpret_answer(200, "{\"subject\":\"" + std::string(256, 'x') + "\"}").kind,
            K::allow);
}

TEST(AuthForward, AdminOnlyWhenTheAnswerSaysSo) {
  EXPECT_FALSE(interpret_answer(200, "").admin);
  EXPECT_FALSE(interpret_answer(200, R"({"ttl":5})").admin);
  EXPECT_FALSE(interpret_answer(200, R"({"admin":"true"})").admin);
  EXPECT_FALSE(interpret_answer(200, R"({"admin":1})").admin);
  EXPECT_FALSE(interpret_answer(403, R"({"admin":true})").admin);
  EXPECT_TRUE(interpret_answer(200, R"({"admin":true})").admin);
}

TEST(AuthForward, CacheKeysDoNotCollide) {
  std::vector<std::string> ab{"a", "b"}, a_b{"a|1:b"};
  EXPECT_NE(cache_key(Operation::subscribe, ab, std::nullopt, std::nullopt),
            cache_key(Operation::subscribe, a_b, std::nullopt, std::nullopt));
  EXPECT_NE(cache_key(Operation::subscribe, ab, "c", std::nullopt),
            cache_key(Operation::subscribe, ab, std::nullopt, "c"));
  EXPECT_NE(cache_key(Operation::subscribe, ab, "", std::nullopt),
            cache_key(Operation::subscribe, ab, std::nullopt, std::nullopt));
  EXPECT_NE(cache_key(Operation::subscribe, ab, "c", "d"),
            cache_key(Operation::history, ab, "c", "d"));
  EXPECT_EQ(cache_key(Operation::emit, ab, "c", "d"), cache_key(Operation::emit, ab, "c", "d"));
}

TEST(AuthForward, CacheHonoursTtl) {
  DecisionCache cache(2);
  cache.put("k", {K::allow, 2, {}}, 1000);
  cache.put("no-ttl", {K::allow, 0, {}}, 1000);
  cache.put("refused", {K::forbidden, 5, {}}, 1000);
  EXPECT_EQ(cache.size(), 1u);
  auto hit = cache.get("k", 2500);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->ttl_secs, 1u);
  EXPECT_FALSE(cache.get("k", 3000));
  EXPECT_EQ(cache.size(), 0u);
  // Bounded: a full cache drops expired entries, then everything.
  cache.put("a", {K::allow, 1, {}}, 0);
  cache.put("b", {K::allow, 10, {}}, 0);
  cache.put("c", {K::allow, 10, {}}, 5000);
  EXPECT_FALSE(cache.get("a", 5000));
  EXPECT_TRUE(cache.get("b", 5000));
  EXPECT_TRUE(cache.get("c", 5000));
  cache.put("d", {K::allow, 10, {}}, 5000);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_TRUE(cache.get("d", 5000));
}
