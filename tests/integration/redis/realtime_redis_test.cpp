// Realtime's batch emit with idempotency keys, on the memory store and on a real redis-server:
// a batch is checked whole before anything is stored, its keys make a repeat store nothing,
// and an emit that timed out against a paused Redis (outcome unknown) is retried safely.
#include <gtest/gtest.h>

#include <thread>

#include "forrealtime/memory_store.hpp"
#include "forrealtime/realtime.hpp"
#include "forrealtime/redis_store.hpp"
#include "redis_server.hpp"

namespace forrealtime {
namespace {

using namespace std::chrono_literals;
using testing::RedisClient;
using testing::RedisServer;

std::vector<EmitItem> batch(std::initializer_list<std::pair<const char*, const char*>> items) {
  std::vector<EmitItem> out;
  int n = 0;
  for (auto& [channel, key] : items) {
    EmitItem item;
    item.channel = channel;
    item.event = "test.n";
    item.data = n++;
    item.idempotency_key = key;
    out.push_back(std::move(item));
  }
  return out;
}

std::shared_ptr<Store> redis_store(const RedisServer& server,
                                   std::chrono::milliseconds timeout = 2000ms) {
  RedisOptions o;
  o.url = server.url();
  o.command_timeout = timeout;
  o.reconnect_min = 50ms;
  auto s = make_redis_store(o);
  for (int i = 0; i < 200 && !s->healthy(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(s->healthy());
  return s;
}

void batch_with_keys_stores_each_item_once(Realtime& rt) {
  auto first = rt.emit_batch(batch({{"a", "k1"}, {"b", "k1"}, {"a", "k2"}, {"a", ""}}));
  ASSERT_TRUE(first) << first.error().why;
  ASSERT_EQ(first->size(), 4u);
  // The same batch again: keyed items answer their first ids, the unkeyed one is stored again.
  auto again = rt.emit_batch(batch({{"a", "k1"}, {"b", "k1"}, {"a", "k2"}, {"a", ""}}));
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)[0], (*first)[0]);
  EXPECT_EQ((*again)[1], (*first)[1]);
  EXPECT_EQ((*again)[2], (*first)[2]);
  EXPECT_NE((*again)[3], (*first)[3]);
  EXPECT_EQ(rt.channel("a").history()->size(), 4u);
  EXPECT_EQ(rt.channel("b").history()->size(), 1u);
}

void refused_item_stores_nothing(Realtime& rt) {
  auto items = batch({{"r", "x1"}, {"r", ""}, {"", ""}});
  auto r = rt.emit_batch(std::move(items));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(errc::invalid_channel));
  EXPECT_EQ(r.error().index, 2u);
  EXPECT_EQ(r.error().why, "channel name is empty");
  auto bad_key = rt.emit_batch(batch({{"r", "has space"}}));
  ASSERT_FALSE(bad_key);
  EXPECT_EQ(bad_key.error().index, 0u);
  EXPECT_NE(bad_key.error().why.find("idempotency key"), std::string::npos);
  EXPECT_TRUE(rt.channel("r").history()->empty());
  EXPECT_TRUE(rt.emit_batch({})->empty());
}

TEST(RealtimeBatchEmit, MemoryStoreKeysStoreOnce) {
  Realtime rt;
  batch_with_keys_stores_each_item_once(rt);
}

TEST(RealtimeBatchEmit, MemoryStoreRefusedItemStoresNothing) {
  Realtime rt;
  refused_item_stores_nothing(rt);
}

TEST(RealtimeBatchEmit, RedisKeysStoreOnce) {
  RedisServer server;
  Realtime rt({.store = redis_store(server)});
  batch_with_keys_stores_each_item_once(rt);
  RedisClient raw(server.port());
  EXPECT_EQ(raw.integer({"XLEN", "a"}), 4);
}

TEST(RealtimeBatchEmit, RedisRefusedItemStoresNothing) {
  RedisServer server;
  Realtime rt({.store = redis_store(server)});
  refused_item_stores_nothing(rt);
}

TEST(RealtimeBatchEmit, KeyReusedAfterTheWindowStoresAgain) {
  RedisServer server;
  Options o;
  o.store = redis_store(server);
  o.idempotency_window = std::chrono::seconds(1);
  Realtime rt(std::move(o));
  auto first = rt.emit_batch(batch({{"w", "k"}}));
  ASSERT_TRUE(first);
  EXPECT_EQ(rt.emit_batch(batch({{"w", "k"}})).value(), first.value());
  std::this_thread::sleep_for(1100ms);
  auto later = rt.emit_batch(batch({{"w", "k"}}));
  ASSERT_TRUE(later);
  EXPECT_GT((*later)[0], (*first)[0]);
  EXPECT_EQ(rt.channel("w").history()->size(), 2u);
}

// Defect 11 through the library: Redis paused past the command timeout; the batch is answered
// "outcome unknown" (not "not stored"), and retried with the same keys once Redis is back, each
// event is in the history once.
TEST(RealtimeBatchEmit, PausedRedisTimeoutIsOutcomeUnknownAndRetryStoresOnce) {
  RedisServer server;
  Realtime rt({.store = redis_store(server, 500ms)});
  RedisClient raw(server.port());
  raw.cmd({"CLIENT", "PAUSE", "800", "WRITE"});
  auto r = rt.emit_batch(batch({{"p", "e1"}, {"p", "e2"}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(store_errc::timeout));
  std::this_thread::sleep_for(600ms);  // Redis is back
  auto retry = rt.emit_batch(batch({{"p", "e1"}, {"p", "e2"}}));
  ASSERT_TRUE(retry) << retry.error().why;
  auto h = rt.channel("p").history();
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].id, (*retry)[0]);
  EXPECT_EQ((*h)[1].id, (*retry)[1]);
  EXPECT_EQ((*h)[0].data, boost::json::value(0));
  EXPECT_EQ((*h)[1].data, boost::json::value(1));
}

}  // namespace
}  // namespace forrealtime
