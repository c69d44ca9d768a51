// The Store's calls as commands on one connection (see store_ops.hpp).
#include "store/redis/store_ops.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "store/redis/cluster_topology.hpp"
#include "store/redis/commands.hpp"

namespace forrealtime::redis {
namespace {

using boost::system::error_code;

void finish_append(const redisReply* r, error_code ec, const Store::AppendHandler& handler) {
  if (ec) return handler(ec);
  if (is_error(r)) {
    auto code = error_of(r);
    // Cluster redirections are routed, not failures.
    if (code.category() != cluster_category()) spdlog::warn("redis: append refused: {}", text(r));
    return handler(code);
  }
  auto id = decode_id(r);
  if (!id) return handler(error_code(store_errc::protocol));
  handler(*id);
}

// The append's handler, behind a WAIT for the replicas once the append succeeded.
Store::AppendHandler after_wait(const std::shared_ptr<Connection>& conn, WaitReplicas wait,
                                Store::AppendHandler handler) {
  return [weak = std::weak_ptr<Connection>(conn), wait,
          handler = std::move(handler)](Store::Result<StreamId> r) mutable {
    if (!r) return handler(std::move(r));
    auto c = weak.lock();
    // Stored on the master, not confirmed on the replicas: the outcome is not known.
    if (!c || !c->is_open()) return handler(error_code(store_errc::timeout));
    encode_command(c->out(),
                   {"WAIT", std::to_string(wait.replicas), std::to_string(wait.timeout.count())});
    c->expect(
        [id = *r, wait, handler = std::move(handler)](Reply rep, error_code ec) {
          long long acked = -1;
          if (!ec && !is_error(rep.get()) && to_int(rep.get(), acked) &&
              acked >= static_cast<long long>(wait.replicas))
            return handler(id);
          spdlog::warn(
              "redis: append {} is on the master but {} of {} replicas acknowledged it within "
              "{} ms; answering timeout",
              id.to_string(), acked < 0 ? 0 : acked, wait.replicas, wait.timeout.count());
          handler(error_code(store_errc::timeout));
        },
        wait.timeout);
    c->flush();
  };
}

// ASKING before a command that follows an ASK-redirected one (see store_ops.hpp).
void send_asking(Connection& conn, bool asking) {
  if (!asking) return;
  encode_command(conn.out(), {"ASKING"});
  conn.expect([](Reply, error_code) {});
}

}  // namespace

void send_append(const std::shared_ptr<Connection>& conn, const std::string& script_sha,
                 std::string key, std::string record, std::string message, const AppendOptions& o,
                 Store::AppendHandler handler, WaitReplicas wait, bool asking) {
  if (wait.replicas > 0) handler = after_wait(conn, wait, std::move(handler));
  if (record.empty()) {
    append_xadd(conn->out(), key, message, o.max_length);
    if (o.expire_after_secs == 0) {
      // The common case: the one command of PROTOCOL.md section 6, nothing captured.
      conn->expect([handler = std::move(handler)](Reply r, error_code ec) {
        finish_append(r.get(), ec, handler);
      });
      return;
    }
    // EXPIRE only after this XADD succeeded; the append completes with the EXPIRE's reply, so
    // that the TTL is set when the caller hears of the id. The EXPIRE leaves with the
    // connection's next write (the read loop flushes after handing out replies), so the
    // EXPIREs of the appends answered by one read share one write.
    conn->expect([weak = std::weak_ptr<Connection>(conn), key = std::move(key),
                  secs = o.expire_after_secs, asking,
                  handler = std::move(handler)](Reply r, error_code ec) mutable {
      auto c = weak.lock();
      if (ec || !r || is_error(r.get()) || !c || !c->is_open())
        return finish_append(r.get(), ec, handler);
      auto id = decode_id(r.get());
      if (!id) return handler(error_code(store_errc::protocol));
      send_asking(*c, asking);
      append_expire(c->out(), key, secs);
      c->expect(
          [key = std::move(key), id = *id, handler = std::move(handler)](Reply r, error_code ec) {
            // The event is stored whatever happens to its EXPIRE: the answer is its id.
            if (ec)
              spdlog::warn("redis: EXPIRE {} after an append: {}", key, ec.message());
            else if (is_error(r.get()))
              spdlog::warn("redis: EXPIRE {} refused: {}", key, text(r.get()));
            handler(id);
          });
    });
    return;
  }
  // The idempotency record is checked and written atomically with the XADD: one script.
  auto window = static_cast<std::uint64_t>(std::max<std::int64_t>(1, o.idempotency_window.count()));
  append_scripted(conn->out(), script_sha, key, record, message, o.max_length, o.expire_after_secs,
                  window);
  conn->expect([weak = std::weak_ptr<Connection>(conn), key = std::move(key),
                record = std::move(record), message = std::move(message), max_length = o.max_length,
                secs = o.expire_after_secs, window, asking,
                handler = std::move(handler)](Reply r, error_code ec) mutable {
    if (!ec && is_error(r.get()) && text(r.get()).starts_with("NOSCRIPT")) {
      // Redis lost its script cache (SCRIPT FLUSH, a restart, a failover): the script did not
      // run, so sending it whole (which caches it again) is safe.
      auto c = weak.lock();
      if (!c || !c->is_open()) return handler(error_code(store_errc::unavailable));
      send_asking(*c, asking);
      append_scripted(c->out(), {}, key, record, message, max_length, secs, window);
      c->expect([handler = std::move(handler)](Reply r, error_code ec) {
        finish_append(r.get(), ec, handler);
      });
      return;
    }
    finish_append(r.get(), ec, handler);
  });
}

void send_range(Connection& conn, std::string_view key, const RangeQuery& q,
                Store::RangeHandler handler) {
  if (q.limit == 0 || (q.start_exclusive && q.start == StreamId::max()) ||
      (q.start_exclusive ? q.start >= q.end : q.start > q.end))
    return handler(std::vector<StoredEntry>{});
  append_xrange(conn.out(), key, q);
  conn.expect([handler = std::move(handler)](Reply r, error_code ec) {
    if (ec) return handler(ec);
    if (is_error(r.get())) return handler(error_of(r.get()));
    std::vector<StoredEntry> entries;
    if (!decode_entries(r.get(), entries)) return handler(error_code(store_errc::protocol));
    handler(std::move(entries));
  });
}

void send_latest(Connection& conn, std::string_view key, Store::LatestHandler handler) {
  append_latest(conn.out(), key);
  conn.expect([handler = std::move(handler)](Reply r, error_code ec) {
    if (ec) return handler(ec);
    handler(decode_latest(r.get()));
  });
}

void send_info(Connection& conn, std::string_view key, Store::InfoHandler handler) {
  append_xinfo(conn.out(), key);
  conn.expect([handler = std::move(handler)](Reply r, error_code ec) {
    if (ec) return handler(ec);
    handler(decode_info(r.get()));
  });
}

}  // namespace forrealtime::redis
