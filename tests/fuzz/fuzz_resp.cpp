// RESP replies from Redis (or from anything listening where Redis should be): arbitrary bytes
// fed, in arbitrary pieces, to the reply reader, the command pipeline and the tail's bookkeeping
// and reply decoders, the cluster's slot map and redirections, and the sentinels' answers.
// Invariants: no crash, no exception, no leak; the pipeline completes every
// command exactly once (by a reply, a timeout or fail_all) and never has more sent commands than
// pending ones; the tail hands on, per key, only ids above its position, each above the one
// before, and positions never go back.
//
// Input: byte 0 picks how many commands the pipeline expects (1..16), byte 1 seeds the sizes of
// the pieces the rest is cut into; the rest is the bytes "from Redis".
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "store/redis/cluster_topology.hpp"
#include "store/redis/commands.hpp"
#include "store/redis/pipeline.hpp"
#include "store/redis/sentinel_reply.hpp"
#include "store/redis/tail_state.hpp"

using namespace forrealtime;
using namespace forrealtime::redis;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// Every decoder on every reply: none may throw or crash, whatever the tree.
void decode_all(const redisReply* r) {
  std::vector<StoredEntry> entries;
  StreamId last{};
  (void)decode_entries(r, entries, &last);
  (void)decode_latest(r);
  (void)decode_info(r);
  (void)decode_id(r);
  (void)error_of(r);
  (void)decode_xread(r, [](std::string_view, std::vector<StoredEntry>&, StreamId) {});
  // Cluster topology and redirections: a map names only masters it holds, with a host and a
  // port; a redirection names a slot in range and a node with a host and a port.
  if (auto map = parse_cluster_slots(r, "asked")) {
    for (auto o : map->owner) check(o < static_cast<long>(map->masters.size()));
    for (const auto& m : map->masters) check(!m.host.empty() && m.port != 0);
    check(map->covered() <= slot_count);
  }
  if (auto to = parse_redirect(text(r), "asked"))
    check(to->slot < slot_count && !to->node.host.empty() && to->node.port != 0);
  // Sentinels: an address always has a host and a port.
  for (auto a : {parse_master_addr(r), parse_switch_master(r, "mymaster")})
    if (a) check(!a->host.empty() && a->port != 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t commands = 1 + data[0] % 16;
  std::uint32_t seed = data[1] | 1u;
  const char* bytes = reinterpret_cast<const char*>(data + 2);
  const std::size_t n = size - 2;
  auto next_piece = [&seed]() -> std::size_t {
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    return 1 + seed % 64;
  };

  // The tail: three watched keys in one batch, one more in another batch (must be ignored).
  TailState tail(3);
  std::map<std::string, StreamId, std::less<>> handed;
  for (const char* k : {"a", "b", "c", "elsewhere"}) {
    auto& w = tail.add_watcher(k);
    tail.place(w, StreamId{5, 0});
    handed[k] = StreamId{5, 0};
  }
  auto deliver = [&](std::string_view key, std::span<const StoredEntry> es) {
    check(key != "elsewhere");
    auto it = handed.find(key);
    check(it != handed.end());
    for (const auto& e : es) {
      check(e.id > it->second);  // above the position, each above the one before
      it->second = e.id;
    }
  };

  // The pipeline: `commands` commands sent, then the bytes; each reply also goes to the tail.
  Pipeline p;
  auto far = Pipeline::Clock::now() + std::chrono::hours(1);
  std::vector<int> completed(commands, 0);
  for (std::size_t i = 0; i < commands; ++i) {
    encode_command(p.out(), {"PING"});
    p.expect(
        [&, i](Reply r, boost::system::error_code ec) {
          ++completed[i];
          check(ec ? r == nullptr : r != nullptr);
          if (!r) return;
          decode_all(r.get());
          std::map<std::string, StreamId, std::less<>> before;
          for (const char* k : {"a", "b", "c"}) before[k] = *tail.find(k)->position;
          (void)tail.apply_read(0, r.get(), deliver);
          for (auto& [k, pos] : before) check(!(*tail.find(k)->position < pos));
        },
        far);
  }
  std::string wire;
  p.take_output(wire);
  check(p.sent() == commands);
  std::size_t replies_before = 0;
  bool failed = false;
  for (std::size_t at = 0; at < n && !failed;) {
    std::size_t piece = std::min(next_piece(), n - at);
    auto ec = p.on_bytes(bytes + at, piece);
    at += piece;
    check(p.sent() <= p.pending());
    std::size_t done = 0;
    for (int c : completed) {
      check(c <= 1);
      done += static_cast<std::size_t>(c);
    }
    check(done >= replies_before);
    check(done + p.pending() == commands);
    replies_before = done;
    if (ec) failed = true;  // the connection would be closed here
  }
  p.fail_all(store_errc::unavailable);
  for (int c : completed) check(c == 1);
  check(p.pending() == 0 && p.sent() == 0);
  return 0;
}
