// Forward auth, the pure half: what the gateway sends to `--auth-url`, how it reads the answer,
// and the cache of decisions keyed by credential and channels. The HTTP call itself lives in
// forward_client.cpp; nothing here does I/O or reads a clock (times are passed in).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/policy.hpp"

namespace forrealtime::auth {

struct ForwardDecision {
  enum class Kind { allow, unauthenticated, forbidden, unavailable };
  Kind kind = Kind::unavailable;
  /** For allow: how long the answer may be reused and the grant lasts (0: not cached, no end). */
  std::uint64_t ttl_secs = 0;
  /** Why, for the log and the error body (never a credential). */
  std::string reason;
  /** For allow: who the auth service says the client is (`{"subject": "..."}`), or empty. The
   *  admin API ends the streams of a subject (POST /api/admin/subject/close). */
  std::string subject;
  /** For allow: the answer said `{"admin": true}`. An operator request (`"operation":"admin"`)
   *  is allowed only then: a service written for channels, which answers 200 to an empty
   *  channel list, must not make every signed-in user an operator. */
  bool admin = false;
};

/** `{"operation": "...", "channels": [...]}`. */
std::string forward_body(Operation op, std::span<const std::string> channels);

/** Reads the upstream's answer: 2xx allows (a JSON body may carry `{"ttl": seconds}`, capped at
 *  a day, and `{"subject": "..."}`, 1-256 bytes without control characters: a subject that is
 *  not a string or not valid makes the answer `unavailable`; anything else in the body is
 *  ignored), 401 and 403 are passed on, everything else is
 *  `unavailable` (the gateway fails closed with 503). */
ForwardDecision interpret_answer(unsigned status, std::string_view body);

/** The cache key: operation, the credential headers, the channels (in order). */
std::string cache_key(Operation op, std::span<const std::string> channels,
                      std::optional<std::string_view> cookie,
                      std::optional<std::string_view> authorization);

/** Allowing decisions with a TTL, until they expire; thread-safe. Bounded: when full, expired
 *  entries go first, then everything (a full cache only costs upstream calls). */
class DecisionCache {
 public:
  explicit DecisionCache(std::size_t capacity = 10000) : capacity_(capacity) {}
  /** The cached decision for `key` at `now_ms`, with its remaining ttl; nothing when absent or
   *  expired. */
  std::optional<ForwardDecision> get(const std::string& key, std::uint64_t now_ms);
  /** Keeps `d` when it allows with a ttl. */
  void put(const std::string& key, const ForwardDecision& d, std::uint64_t now_ms);
  std::size_t size() const;

 private:
  struct Entry {
    ForwardDecision decision;
    std::uint64_t expires_ms;
  };
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::size_t capacity_;
};

}  // namespace forrealtime::auth
