// The connection and emit-rate limiters with a clock given by the test.
#include "http/limits.hpp"

#include <gtest/gtest.h>

using namespace forrealtime::gateway;
using namespace std::chrono_literals;

TEST(ConnectionLimiter, CapsPerAddressAndInAllAndReleases) {
  ConnectionLimiter l(3, 2);
  using V = ConnectionLimiter::Verdict;
  EXPECT_EQ(l.acquire("a"), V::ok);
  EXPECT_EQ(l.acquire("a"), V::ok);
  EXPECT_EQ(l.acquire("a"), V::per_ip);
  EXPECT_EQ(l.acquire("b"), V::ok);
  EXPECT_EQ(l.acquire("c"), V::total);
  EXPECT_EQ(l.open(), 3u);
  l.release("a");
  EXPECT_EQ(l.acquire("c"), V::ok);
  EXPECT_EQ(l.acquire("a"), V::total);
  l.release("c");
  EXPECT_EQ(l.acquire("a"), V::ok);
}

TEST(ConnectionLimiter, AProxysConnectionsCountInAllItsRequestsPerClient) {
  ConnectionLimiter l(2, 1);
  using V = ConnectionLimiter::Verdict;
  using C = ConnectionLimiter::Count;
  // Two connections of one trusted proxy: the total, not the proxy's address.
  EXPECT_EQ(l.acquire("proxy", C::total), V::ok);
  EXPECT_EQ(l.acquire("proxy", C::total), V::ok);
  EXPECT_EQ(l.acquire("proxy", C::total), V::total);
  // The clients it forwards: their addresses, not the total.
  EXPECT_EQ(l.acquire("a", C::per_ip), V::ok);
  EXPECT_EQ(l.acquire("a", C::per_ip), V::per_ip);
  EXPECT_EQ(l.acquire("b", C::per_ip), V::ok);
  EXPECT_EQ(l.open(), 2u);
  l.release("a", C::per_ip);
  EXPECT_EQ(l.open(), 2u);
  EXPECT_EQ(l.acquire("a", C::per_ip), V::ok);
  l.release("proxy", C::total);
  EXPECT_EQ(l.open(), 1u);
  EXPECT_EQ(l.acquire("proxy", C::total), V::ok);
}

TEST(ConnectionLimiter, ZeroMeansNoCap) {
  ConnectionLimiter l(0, 0);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(l.acquire("a"), ConnectionLimiter::Verdict::ok);
  EXPECT_EQ(l.open(), 1000u);
}

TEST(RateLimiter, BurstThenRateThenRefill) {
  RateLimiter r(2, 3);
  auto t = RateLimiter::Clock::time_point{} + 1h;
  EXPECT_FALSE(r.take(1, t));
  EXPECT_FALSE(r.take(1, t));
  EXPECT_FALSE(r.take(1, t));
  auto wait = r.take(1, t);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 1u);
  EXPECT_FALSE(r.take(2, t));  // another key has its own bucket
  EXPECT_TRUE(r.take(1, t + 400ms));
  EXPECT_FALSE(r.take(1, t + 500ms));  // 2 per second: one token after 500 ms
  EXPECT_TRUE(r.take(1, t + 600ms));
  // A long pause refills only up to the burst.
  auto later = t + 1h;
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(r.take(1, later)) << i;
  EXPECT_TRUE(r.take(1, later));
}

TEST(RateLimiter, SlowRatesSayHowLongToWait) {
  RateLimiter r(0.1, 1);
  auto t = RateLimiter::Clock::time_point{} + 1h;
  EXPECT_FALSE(r.take(7, t));
  auto wait = r.take(7, t);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 10u);
}

TEST(RateLimiter, ManyOneOffKeysAreForgotten) {
  RateLimiter r(100, 1);
  auto t = RateLimiter::Clock::time_point{} + 1h;
  for (std::uint64_t k = 0; k < 100000; ++k)
    EXPECT_FALSE(r.take(k, t + std::chrono::milliseconds(k)));
  // A key still limited is remembered through the pruning.
  EXPECT_FALSE(r.take(1u << 30, t + 200s));
  EXPECT_TRUE(r.take(1u << 30, t + 200s));
}

TEST(RateLimiter, TheTableIsBoundedAndNewKeysOverItShareOneBucket) {
  RateLimiter r(1, 2, 100);
  auto t = RateLimiter::Clock::time_point{} + 1h;
  // 100 keys in use (each took a token at the same instant: none can be pruned).
  for (std::uint64_t k = 1; k <= 100; ++k) EXPECT_FALSE(r.take(k, t));
  EXPECT_EQ(r.size(), 100u);
  // Every new key now shares the overflow bucket: two go, the rest wait.
  EXPECT_FALSE(r.take(1000, t));
  EXPECT_FALSE(r.take(1001, t));
  EXPECT_TRUE(r.take(1002, t));
  EXPECT_TRUE(r.take(1003, t));
  EXPECT_LE(r.size(), 101u);
  // A known key keeps its own bucket.
  EXPECT_FALSE(r.take(5, t));
  EXPECT_TRUE(r.take(5, t));
  // Once the old keys have refilled, they are dropped and new keys get their own buckets.
  EXPECT_FALSE(r.take(2000, t + 10s));
  EXPECT_FALSE(r.take(2000, t + 10s));
  EXPECT_TRUE(r.take(2000, t + 10s));
  EXPECT_FALSE(r.take(2001, t + 10s));
}

TEST(EmitLimiter, UngrantedCredentialsAreChargedToTheAddress) {
  EmitLimiter l(1, 3);
  auto t = RateLimiter::Clock::time_point{} + 1h;
  const std::uint64_t ip = 4, good = 9;
  // The granted client's first emit costs its address one token.
  EXPECT_FALSE(l.take(good, ip, t));
  l.granted(good);
  // An attacker inventing a credential per request: the address's two tokens left, then 429.
  EXPECT_FALSE(l.take(101, ip, t));
  EXPECT_FALSE(l.take(109, ip, t));
  for (std::uint64_t k = 117; k < 200; k += 8) EXPECT_TRUE(l.take(k, ip, t)) << k;
  // So is a client without a credential on that address.
  EXPECT_TRUE(l.take(std::nullopt, ip, t));
  // The granted credential has its own bucket (its first emit took one of three), whoever else
  // shares its address.
  EXPECT_FALSE(l.take(good, ip, t));
  EXPECT_FALSE(l.take(good, ip, t));
  EXPECT_TRUE(l.take(good, ip, t));
  // Another address is not concerned.
  EXPECT_FALSE(l.take(301, 12, t));
  // A credential refused before stays limited on its own even from a fresh address.
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(l.take(77, 20 + 8 * i, t)) << i;
  EXPECT_TRUE(l.take(77, 100, t));
}

TEST(EmitLimiter, TheGrantedSetIsBounded) {
  EmitLimiter l(1, 1, 10);
  auto t = RateLimiter::Clock::time_point{} + 1h;
  for (std::uint64_t k = 1; k <= 10; ++k) l.granted(k * 8 + 1);
  EXPECT_FALSE(l.take(9, 4, t));  // granted: its own bucket, the address keeps its token
  EXPECT_FALSE(l.take(std::nullopt, 4, t));
  l.granted(1000 * 8 + 1);  // over the bound: the set starts over
  EXPECT_TRUE(l.take(17, 4, t)) << "no longer known: charged to the (empty) address";
  EXPECT_FALSE(l.take(1000 * 8 + 1, 12, t));
}
