// Encoding of the store's Redis commands and decoding of their replies (see commands.hpp).
#include "store/redis/commands.hpp"

#include "store/redis/cluster_topology.hpp"

#include <charconv>

namespace forrealtime::redis {
namespace {

struct Num {
  char buf[24];
  std::size_t n;
  explicit Num(std::uint64_t v) {
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    n = static_cast<std::size_t>(r.ptr - buf);
  }
  std::string_view view() const { return {buf, n}; }
};

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i], b = prefix[i];
    if (a >= 'a' && a <= 'z') a = static_cast<char>(a - 32);
    if (b >= 'a' && b <= 'z') b = static_cast<char>(b - 32);
    if (a != b) return false;
  }
  return true;
}

}  // namespace

void append_xadd(std::string& out, std::string_view key, std::string_view message,
                 std::size_t max_length) {
  if (max_length > 0) {
    Num n(max_length);
    encode_command(out, {"XADD", key, "MAXLEN", "~", n.view(), "*", "message", message});
  } else {
    encode_command(out, {"XADD", key, "*", "message", message});
  }
}

void append_expire(std::string& out, std::string_view key, std::uint64_t secs) {
  Num n(secs);
  encode_command(out, {"EXPIRE", key, n.view()});
}

const std::string_view append_script = R"lua(-- forrealtime append v1 (see commands.hpp)
if redis.replicate_commands then redis.replicate_commands() end
if KEYS[2] then
  local first = redis.call('GET', KEYS[2])
  if first then return first end
end
local id
if ARGV[2] ~= '0' then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'message', ARGV[1])
else
  id = redis.call('XADD', KEYS[1], '*', 'message', ARGV[1])
end
if ARGV[3] ~= '0' then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
if KEYS[2] then redis.call('SET', KEYS[2], id, 'PX', ARGV[4]) end
return id
)lua";

void append_scripted(std::string& out, std::string_view sha, std::string_view key,
                     std::string_view record_key, std::string_view message, std::size_t max_length,
                     std::uint64_t expire_secs, std::uint64_t window_ms) {
  Num maxlen(max_length), expire(expire_secs), window(window_ms ? window_ms : 1);
  std::string_view head = sha.empty() ? "EVAL" : "EVALSHA";
  std::string_view body = sha.empty() ? append_script : sha;
  if (record_key.empty())
    encode_command(out,
                   {head, body, "1", key, message, maxlen.view(), expire.view(), window.view()});
  else
    encode_command(out, {head, body, "2", key, record_key, message, maxlen.view(), expire.view(),
                         window.view()});
}

void append_latest(std::string& out, std::string_view key) {
  encode_command(out, {"XREVRANGE", key, "+", "-", "COUNT", "1"});
}

void append_xrange(std::string& out, std::string_view key, const RangeQuery& q) {
  std::string start, end;
  if (q.start_exclusive) {
    start = "(";
    q.start.append_to(start);
  } else if (q.start.is_zero()) {
    start = "-";
  } else {
    q.start.append_to(start);
  }
  if (q.end == StreamId::max())
    end = "+";
  else
    q.end.append_to(end);
  Num n(q.limit);
  if (q.newest_first)  // the newest `limit` of the range, newest first
    encode_command(out, {"XREVRANGE", key, end, start, "COUNT", n.view()});
  else
    encode_command(out, {"XRANGE", key, start, end, "COUNT", n.view()});
}

void append_xinfo(std::string& out, std::string_view key) {
  encode_command(out, {"XINFO", "STREAM", key});
}

void append_xread(std::string& out, std::size_t count, std::uint64_t block_ms,
                  std::span<const std::string_view> keys, std::span<const StreamId> ids) {
  std::vector<std::string_view> args;
  args.reserve(6 + keys.size() * 2);
  Num c(count), b(block_ms);
  args.insert(args.end(), {"XREAD", "COUNT", c.view(), "BLOCK", b.view(), "STREAMS"});
  args.insert(args.end(), keys.begin(), keys.end());
  std::string id_text;
  id_text.reserve(ids.size() * 24);
  std::vector<std::size_t> ends;
  ends.reserve(ids.size());
  for (const auto& id : ids) {
    id.append_to(id_text);
    ends.push_back(id_text.size());
  }
  std::size_t begin = 0;
  for (auto e : ends) {
    args.emplace_back(id_text.data() + begin, e - begin);
    begin = e;
  }
  encode_command(out, args);
}

std::optional<StreamId> decode_id(const redisReply* r) {
  if (!r || is_array(r)) return std::nullopt;
  return StreamId::parse(text(r));
}

std::optional<std::string_view> find_message(const redisReply* fields) {
  auto n = size(fields);
  for (std::size_t i = 0; i + 1 < n; i += 2)
    if (text(at(fields, i)) == "message") return text(at(fields, i + 1));
  return std::nullopt;
}

bool decode_entries(const redisReply* r, std::vector<StoredEntry>& out, StreamId* last_seen) {
  if (!is_array(r)) return false;
  auto n = size(r);
  out.reserve(out.size() + n);
  for (std::size_t i = 0; i < n; ++i) {
    const redisReply* e = at(r, i);
    if (size(e) != 2) return false;
    auto id = decode_id(at(e, 0));
    if (!id) return false;
    if (last_seen) *last_seen = *id;
    const redisReply* fields = at(e, 1);
    // A nil field list is an entry deleted under a consumer group's PEL; not ours to read.
    if (!is_array(fields)) continue;
    if (auto m = find_message(fields)) out.push_back(StoredEntry{*id, std::string(*m)});
  }
  return true;
}

boost::system::error_code error_of(const redisReply* r) {
  auto t = text(r);
  // Redis Cluster: where to go instead (cluster_topology.hpp); the target waits in a
  // thread-local for the handler this reply completes.
  if (t.starts_with("MOVED ") || t.starts_with("ASK ")) {
    auto& last = last_redirect();
    last = parse_redirect(t, {});
    if (last) return last->ask ? cluster_errc::ask : cluster_errc::moved;
    return store_errc::protocol;
  }
  if (starts_with_ci(t, "TRYAGAIN")) return cluster_errc::tryagain;
  if (starts_with_ci(t, "CLUSTERDOWN")) return cluster_errc::clusterdown;
  if (starts_with_ci(t, "LOADING") || starts_with_ci(t, "BUSY") ||
      starts_with_ci(t, "MASTERDOWN") || starts_with_ci(t, "TRYAGAIN") ||
      starts_with_ci(t, "READONLY"))
    return store_errc::unavailable;
  return store_errc::protocol;
}

boost::system::result<StreamId> decode_latest(const redisReply* r) {
  if (is_error(r)) return error_of(r);
  std::vector<StoredEntry> entries;
  StreamId last{};
  if (!is_array(r)) return boost::system::error_code(store_errc::protocol);
  if (size(r) == 0) return StreamId{};
  if (!decode_entries(r, entries, &last)) return boost::system::error_code(store_errc::protocol);
  return last;
}

boost::system::result<StreamInfo> decode_info(const redisReply* r) {
  if (is_error(r)) {
    // Redis: "ERR no such key"; a missing stream is an empty one.
    if (text(r).find("no such key") != std::string_view::npos) return StreamInfo{};
    return error_of(r);
  }
  if (!is_array(r) || size(r) % 2 != 0) return boost::system::error_code(store_errc::protocol);
  StreamInfo info;
  bool have_added = false;
  StreamId recorded_first{};
  for (std::size_t i = 0; i + 1 < size(r); i += 2) {
    auto name = text(at(r, i));
    const redisReply* v = at(r, i + 1);
    long long n = 0;
    if (name == "length") {
      if (!to_int(v, n) || n < 0) return boost::system::error_code(store_errc::protocol);
      info.length = static_cast<std::size_t>(n);
    } else if (name == "entries-added") {
      if (!to_int(v, n) || n < 0) return boost::system::error_code(store_errc::protocol);
      info.entries_added = static_cast<std::uint64_t>(n);
      have_added = true;
    } else if (name == "max-deleted-entry-id") {
      if (auto id = decode_id(v)) info.max_trimmed = *id;
    } else if (name == "recorded-first-entry-id") {
      if (auto id = decode_id(v)) recorded_first = *id;
    } else if (name == "first-entry" || name == "last-entry") {
      if (is_nil(v)) continue;
      auto id = decode_id(at(v, 0));
      if (!id) return boost::system::error_code(store_errc::protocol);
      (name == "first-entry" ? info.first : info.last) = *id;
    }
  }
  if (info.first.is_zero() && info.length > 0) info.first = recorded_first;
  if (!have_added) info.entries_added = info.length;
  // Redis leaves max-deleted-entry-id at 0-0 after MAXLEN trimming, so what was trimmed is
  // told by entries_added > length and the first id kept, never exactly.
  info.max_trimmed_known = false;
  return info;
}

bool decode_xread(
    const redisReply* r,
    const std::function<void(std::string_view, std::vector<StoredEntry>&, StreamId)>& each) {
  if (is_nil(r)) return true;
  if (!is_array(r)) return false;
  std::vector<StoredEntry> entries;
  for (std::size_t i = 0; i < size(r); ++i) {
    const redisReply* kv = at(r, i);
    if (size(kv) != 2) return false;
    auto key = text(at(kv, 0));
    entries.clear();
    StreamId last{};
    if (!decode_entries(at(kv, 1), entries, &last)) return false;
    if (size(at(kv, 1)) == 0) continue;
    each(key, entries, last);
  }
  return true;
}

}  // namespace forrealtime::redis
