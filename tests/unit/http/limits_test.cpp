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
