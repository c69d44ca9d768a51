#include "auth/policy.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

using namespace forrealtime::auth;

namespace {

std::vector<std::string> v(std::initializer_list<const char*> l) {
  return {l.begin(), l.end()};
}

Grants grants(std::string_view json) {
  std::string why;
  auto g = grants_from_json(boost::json::parse(json), &why);
  EXPECT_TRUE(g) << json << ": " << why;
  return g ? *g : Grants{};
}

}  // namespace

TEST(AuthPattern, ExactAndStar) {
  EXPECT_TRUE(pattern_matches("room", "room", ""));
  EXPECT_FALSE(pattern_matches("room", "room:1", ""));
  EXPECT_FALSE(pattern_matches("room", "roo", ""));
  EXPECT_TRUE(pattern_matches("room:*", "room:1", ""));
  EXPECT_TRUE(pattern_matches("room:*", "room:", ""));
  EXPECT_FALSE(pattern_matches("room:*", "room", "")) << "the pattern edge";
  EXPECT_FALSE(pattern_matches("room:*", "xroom:1", ""));
  EXPECT_TRUE(pattern_matches("*", "anything at all", ""));
  EXPECT_TRUE(pattern_matches("a*b*c", "a-b-b-c", ""));
  EXPECT_TRUE(pattern_matches("a*b*c", "abc", ""));
  EXPECT_FALSE(pattern_matches("a*b*c", "a-b-b-cd", ""));
  EXPECT_FALSE(pattern_matches("a*b*c", "acb", ""));
  EXPECT_TRUE(pattern_matches("*:public", "x:y:public", ""));
  EXPECT_TRUE(pattern_matches("a**b", "ab", ""));
  // Backtracking: the first `b` is not the one the pattern needs.
  EXPECT_TRUE(pattern_matches("*ab", "aab", ""));
  EXPECT_TRUE(pattern_matches("*aab*x", "aaab-x", ""));
}

TEST(AuthPattern, SubjectIsLiteral) {
  EXPECT_TRUE(pattern_matches("user:{sub}", "user:42", "42"));
  EXPECT_FALSE(pattern_matches("user:{sub}", "user:43", "42"));
  EXPECT_FALSE(pattern_matches("user:{sub}", "user:42x", "42"));
  EXPECT_TRUE(pattern_matches("user:{sub}:*", "user:42:inbox", "42"));
  // A subject with pattern syntax matches only itself.
  EXPECT_FALSE(pattern_matches("user:{sub}", "user:42", "*"));
  EXPECT_TRUE(pattern_matches("user:{sub}", "user:*", "*"));
  EXPECT_FALSE(pattern_matches("user:{sub}", "user:a", "{sub}"));
  EXPECT_TRUE(pattern_matches("user:{sub}", "user:{sub}", "{sub}"));
  // No subject: a {sub} pattern grants nothing (not even "user:").
  EXPECT_FALSE(pattern_matches("user:{sub}", "user:", ""));
  EXPECT_FALSE(pattern_matches("user:{sub}", "user:{sub}", ""));
  // A lone brace is literal text.
  EXPECT_TRUE(pattern_matches("a{b", "a{b", ""));
  EXPECT_FALSE(pattern_matches("a{b", "ab", ""));
}

TEST(AuthGrants, ParsedFromTheClaim) {
  auto g = grants("{\"subscribe\":[\"room:*\"],\"emit\":[\"room:1\"],\"other\":1}");
  EXPECT_EQ(g.subscribe, v({"room:*"}));
  EXPECT_FALSE(g.history);
  EXPECT_EQ(g.for_operation(Operation::history), v({"room:*"})) << "history defaults to subscribe";
  EXPECT_EQ(g.emit, v({"room:1"}));
  EXPECT_FALSE(g.admin);
  auto empty = grants(R"({"subscribe":["a"],"history":[]})");
  ASSERT_TRUE(empty.history);
  EXPECT_TRUE(empty.for_operation(Operation::history).empty()) << "explicitly empty: nothing";
  EXPECT_TRUE(grants(R"({"admin":true})").admin);

  std::string why;
  for (auto bad : {R"([])", R"({"subscribe":"a"})", R"({"subscribe":[1]})", R"({"emit":[""]})",
                   R"({"history":null})", R"({"admin":"yes"})", "{\"emit\":[\"a\\u0001\"]}"}) {
    EXPECT_FALSE(grants_from_json(boost::json::parse(bad), &why)) << bad;
    EXPECT_FALSE(why.empty());
  }
}

TEST(AuthDecide, AllowUnauthenticatedForbidden) {
  Policy policy{v({"news", "public:*"})};
  Credential c{"42", grants(R"({"subscribe":["room:*","user:{sub}"],"history":[],
                                "emit":["room:1"]})")};
  auto ch = [](std::initializer_list<const char*> l) { return v(l); };
  // Public channels: anyone reads them, nobody emits to them by being public.
  EXPECT_EQ(decide(policy, nullptr, Operation::subscribe, ch({"news", "public:x"})),
            Decision::allow);
  EXPECT_EQ(decide(policy, nullptr, Operation::history, ch({"news"})), Decision::allow);
  EXPECT_EQ(decide(policy, nullptr, Operation::emit, ch({"news"})), Decision::unauthenticated);
  EXPECT_EQ(decide(policy, &c, Operation::emit, ch({"news"})), Decision::forbidden);
  // Without a credential, one private channel among public ones is a 401.
  EXPECT_EQ(decide(policy, nullptr, Operation::subscribe, ch({"news", "room:1"})),
            Decision::unauthenticated);
  // With one, every channel must be covered.
  EXPECT_EQ(decide(policy, &c, Operation::subscribe, ch({"news", "room:1", "user:42"})),
            Decision::allow);
  EXPECT_EQ(decide(policy, &c, Operation::subscribe, ch({"room:1", "room"})), Decision::forbidden);
  EXPECT_EQ(first_denied(policy, &c, Operation::subscribe, ch({"room:1", "room", "x"})), "room");
  EXPECT_EQ(decide(policy, &c, Operation::subscribe, ch({"user:43"})), Decision::forbidden);
  // An explicitly empty history grant: nothing but public history.
  EXPECT_EQ(decide(policy, &c, Operation::history, ch({"room:1"})), Decision::forbidden);
  EXPECT_EQ(decide(policy, &c, Operation::history, ch({"news"})), Decision::allow);
  EXPECT_EQ(decide(policy, &c, Operation::emit, ch({"room:1"})), Decision::allow);
  EXPECT_EQ(decide(policy, &c, Operation::emit, ch({"room:1", "room:2"})), Decision::forbidden);
  // Admin needs the admin grant.
  EXPECT_EQ(decide(policy, nullptr, Operation::admin, {}), Decision::unauthenticated);
  EXPECT_EQ(decide(policy, &c, Operation::admin, {}), Decision::forbidden);
  Credential admin{"", grants(R"({"admin":true})")};
  EXPECT_EQ(decide(policy, &admin, Operation::admin, {}), Decision::allow);
  // No policy at all and no credential: nothing is granted.
  EXPECT_EQ(decide(Policy{}, nullptr, Operation::subscribe, ch({"a"})), Decision::unauthenticated);
}
