// Redis Cluster's pure parts: the slot map from literal CLUSTER SLOTS bytes, redirection
// replies, error replies turned into routing codes, cluster URLs, and wake-up reads that never
// name two slots.
#include <gtest/gtest.h>

#include "forrealtime/redis_store.hpp"
#include "store/redis/cluster_topology.hpp"
#include "store/redis/commands.hpp"
#include "store/redis/sentinel_reply.hpp"
#include "store/redis/tail_state.hpp"

namespace forrealtime::redis {
namespace {

Reply parse(std::string_view bytes) {
  ReplyReader reader;
  EXPECT_TRUE(reader.feed(bytes.data(), bytes.size()));
  return reader.next();
}

TEST(ClusterTopology, SlotMapFromClusterSlots) {
  // Two ranges: 0-5460 on 127.0.0.1:7000 (replica 7003), 5461-16383 on an empty host (the
  // node asked) port 7001.
  auto r = parse(
      "*2\r\n"
      "*4\r\n:0\r\n:5460\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$2\r\nid\r\n"
      "*3\r\n$9\r\n127.0.0.1\r\n:7003\r\n$2\r\nr1\r\n"
      "*3\r\n:5461\r\n:16383\r\n*3\r\n$0\r\n\r\n:7001\r\n$2\r\nid\r\n");
  auto map = parse_cluster_slots(r.get(), "10.0.0.9");
  ASSERT_TRUE(map);
  EXPECT_EQ(map->covered(), slot_count);
  ASSERT_EQ(map->masters.size(), 2u);
  EXPECT_EQ(map->node_of(0)->name(), "127.0.0.1:7000");
  EXPECT_EQ(map->node_of(5460)->name(), "127.0.0.1:7000");
  EXPECT_EQ(map->node_of(5461)->name(), "10.0.0.9:7001");
  EXPECT_EQ(map->node_of(16383)->name(), "10.0.0.9:7001");

  auto partial = parse("*1\r\n*3\r\n:10\r\n:20\r\n*2\r\n$1\r\nh\r\n:1\r\n");
  auto pm = parse_cluster_slots(partial.get(), "x");
  ASSERT_TRUE(pm);
  EXPECT_EQ(pm->covered(), 11u);
  EXPECT_EQ(pm->node_of(9), nullptr);

  // Not the shape: nothing.
  for (std::string_view bad :
       {"+OK\r\n", "*1\r\n:1\r\n", "*1\r\n*3\r\n:20\r\n:10\r\n*2\r\n$1\r\nh\r\n:1\r\n",
        "*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\nh\r\n:1\r\n",
        "*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\nh\r\n:0\r\n"}) {
    auto b = parse(bad);
    EXPECT_FALSE(parse_cluster_slots(b.get(), "x")) << bad;
  }
}

TEST(ClusterTopology, Redirections) {
  auto m = parse_redirect("MOVED 3999 127.0.0.1:6381", "d");
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->ask);
  EXPECT_EQ(m->slot, 3999);
  EXPECT_EQ(m->node.name(), "127.0.0.1:6381");
  auto a = parse_redirect("ASK 12 ::1:7000", "d");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->ask);
  EXPECT_EQ(a->node.host, "::1");
  EXPECT_EQ(parse_redirect("MOVED 1 :7000", "seed")->node.host, "seed");
  for (std::string_view bad : {"MOVED", "MOVED 16384 h:1", "MOVED x h:1", "MOVED 1 h",
                               "MOVED 1 h:0", "MOVED 1 h:70000", "ERR MOVED 1 h:1", "ASK 1"})
    EXPECT_FALSE(parse_redirect(bad, "d")) << bad;
}

TEST(ClusterTopology, ErrorRepliesBecomeRoutingCodes) {
  auto moved = parse("-MOVED 7 127.0.0.1:7002\r\n");
  EXPECT_EQ(error_of(moved.get()), cluster_errc::moved);
  ASSERT_TRUE(last_redirect());
  EXPECT_EQ(last_redirect()->node.port, 7002);
  auto ask = parse("-ASK 7 127.0.0.1:7001\r\n");
  EXPECT_EQ(error_of(ask.get()), cluster_errc::ask);
  EXPECT_EQ(last_redirect()->node.port, 7001);
  auto again = parse("-TRYAGAIN Multiple keys request during rehashing of slot\r\n");
  EXPECT_EQ(error_of(again.get()), cluster_errc::tryagain);
  auto down = parse("-CLUSTERDOWN The cluster is down\r\n");
  EXPECT_EQ(error_of(down.get()), cluster_errc::clusterdown);
  auto garbled = parse("-MOVED nonsense\r\n");
  EXPECT_EQ(error_of(garbled.get()), store_errc::protocol);
}

TEST(ClusterTopology, ClusterUrls) {
  auto one = parse_redis_cluster_url("redis-cluster://127.0.0.1:7000");
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].port, 7000);
  auto many = parse_redis_cluster_url("redis-cluster://u:p%40ss@a:7000,b,[::1]:7002/");
  ASSERT_TRUE(many);
  ASSERT_EQ(many->size(), 3u);
  EXPECT_EQ((*many)[1].host, "b");
  EXPECT_EQ((*many)[1].port, 6379);
  EXPECT_EQ((*many)[2].port, 7002);
  for (auto& ep : *many) {
    EXPECT_EQ(ep.user, "u");
    EXPECT_EQ(ep.password, "p@ss");
  }
  auto tls = parse_redis_cluster_url("rediss-cluster://a:7000,b:7001");
  ASSERT_TRUE(tls);
  EXPECT_TRUE((*tls)[0].tls && (*tls)[1].tls);
  EXPECT_FALSE((*one)[0].tls);
  for (std::string_view bad :
       {"redis://a:1", "redis-cluster://", "redis-cluster://a,,b", "redis-cluster://a,",
        "redis-cluster://a/1", "redis-cluster://a:1?x=1", "redis-cluster://a:99999"})
    EXPECT_FALSE(parse_redis_cluster_url(bad)) << bad;
}

TEST(ClusterTopology, WakeReadsNameOneSlot) {
  TailState t(100);
  t.set_one_slot(true);
  for (std::string_view k : {"{a}1", "{a}2", "b", "{a}3"}) {
    auto& w = t.add_watcher(k);
    t.place(w, StreamId{1, 0});
    w.sub = TailWatch::Sub::confirmed;
    t.wake(k);
  }
  std::vector<std::size_t> sizes;
  std::string out;
  TailTicket ticket;
  while (t.encode_wake_read(100, 10, out, ticket)) {
    sizes.push_back(ticket.size());
    std::uint16_t slot = key_slot(ticket.front().first);
    for (auto& [k, gen] : ticket) EXPECT_EQ(key_slot(k), slot) << k;
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 1, 1}));
}

TEST(SentinelReply, MasterAddressAndSwitchMaster) {
  auto addr = parse("*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n");
  auto a = parse_master_addr(addr.get());
  ASSERT_TRUE(a);
  EXPECT_EQ(a->name(), "127.0.0.1:6380");
  // A sentinel that does not know the master answers nil; anything else is not an address.
  for (std::string_view bad :
       {"*-1\r\n", "*2\r\n$0\r\n\r\n$4\r\n6380\r\n", "*2\r\n$1\r\nh\r\n$5\r\n65536\r\n",
        "*2\r\n$1\r\nh\r\n$1\r\n0\r\n", "*2\r\n$1\r\nh\r\n$3\r\n80x\r\n",
        "*3\r\n$1\r\nh\r\n$2\r\n80\r\n$1\r\nx\r\n", "-ERR no\r\n"}) {
    auto r = parse(bad);
    EXPECT_FALSE(parse_master_addr(r.get())) << bad;
  }

  auto msg = [](std::string_view payload) {
    return "*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n$" + std::to_string(payload.size()) +
           "\r\n" + std::string(payload) + "\r\n";
  };
  auto sw = parse(msg("mymaster 127.0.0.1 6379 127.0.0.2 6381"));
  auto to = parse_switch_master(sw.get(), "mymaster");
  ASSERT_TRUE(to);
  EXPECT_EQ(to->name(), "127.0.0.2:6381");
  EXPECT_FALSE(parse_switch_master(sw.get(), "other"));  // another master's failover
  for (std::string_view bad : {"mymaster 127.0.0.1 6379 127.0.0.2", "mymaster a 1 b 2 c",
                               "mymaster a 1 b 0", "mymaster a 1  2"}) {
    auto r = parse(msg(bad));
    EXPECT_FALSE(parse_switch_master(r.get(), "mymaster")) << bad;
  }
}

}  // namespace
}  // namespace forrealtime::redis
