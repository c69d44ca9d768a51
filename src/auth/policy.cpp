// Channel patterns, grants and the allow / 401 / 403 decision; see policy.hpp.
#include "auth/policy.hpp"

#include <boost/json/value.hpp>

#include "core/names.hpp"

namespace forrealtime::auth {
namespace {

constexpr std::string_view kSub = "{sub}";

// One piece of a pattern once `{sub}` is substituted: literal text, or a `*`.
struct Piece {
  std::string_view text;  // empty for a star
  bool star = false;
};

// Splits `pattern` into literal runs and stars; `{sub}` becomes the literal `sub`. Returns false
// when the pattern names `{sub}` and there is no subject. The pieces point into `pattern` and
// `sub`, so the subject's characters are never read as pattern syntax.
bool split(std::string_view pattern, std::string_view sub, std::vector<Piece>& out) {
  std::size_t i = 0, literal_from = 0;
  auto flush = [&](std::size_t to) {
    if (to > literal_from) out.push_back({pattern.substr(literal_from, to - literal_from)});
  };
  while (i < pattern.size()) {
    if (pattern[i] == '*') {
      flush(i);
      if (out.empty() || !out.back().star) out.push_back({{}, true});
      literal_from = ++i;
    } else if (pattern.substr(i).starts_with(kSub)) {
      if (sub.empty()) return false;
      flush(i);
      out.push_back({sub});
      i += kSub.size();
      literal_from = i;
    } else {
      ++i;
    }
  }
  flush(i);
  return true;
}

// Glob match over pieces: literals must appear in order, stars absorb anything between them.
// Greedy with one backtrack point (the last star), so it runs in O(|channel| * |pattern|).
bool match(const std::vector<Piece>& pieces, std::string_view s) {
  std::size_t p = 0, pos = 0;
  std::size_t star_piece = std::string_view::npos, star_pos = 0;
  while (true) {
    if (p == pieces.size()) {
      if (pos == s.size()) return true;
    } else if (pieces[p].star) {
      star_piece = p++;
      star_pos = pos;
      continue;
    } else if (s.substr(pos).starts_with(pieces[p].text)) {
      pos += pieces[p].text.size();
      ++p;
      continue;
    }
    // Mismatch: let the last star take one more character, or give up.
    if (star_piece == std::string_view::npos || star_pos >= s.size()) return false;
    p = star_piece + 1;
    pos = ++star_pos;
  }
}

const std::vector<std::string> kNone;

bool covered(const std::vector<std::string>& patterns, std::string_view channel,
             std::string_view sub) {
  for (auto& p : patterns)
    if (pattern_matches(p, channel, sub)) return true;
  return false;
}

}  // namespace

std::string_view to_string(Operation op) {
  switch (op) {
    case Operation::subscribe:
      return "subscribe";
    case Operation::history:
      return "history";
    case Operation::emit:
      return "emit";
    case Operation::admin:
      return "admin";
  }
  return "?";
}

bool pattern_matches(std::string_view pattern, std::string_view channel, std::string_view sub) {
  std::vector<Piece> pieces;
  if (!split(pattern, sub, pieces)) return false;
  return match(pieces, channel);
}

std::optional<std::string> check_pattern(std::string_view pattern) {
  if (pattern.empty()) return "an empty channel pattern";
  if (auto why = core::check_channel(pattern)) return "channel pattern: " + *why;
  return std::nullopt;
}

const std::vector<std::string>& Grants::for_operation(Operation op) const {
  switch (op) {
    case Operation::subscribe:
      return subscribe;
    case Operation::history:
      return history ? *history : subscribe;
    case Operation::emit:
      return emit;
    case Operation::admin:
      break;
  }
  return kNone;
}

std::optional<Grants> grants_from_json(const boost::json::value& v, std::string* why) {
  auto fail = [&](std::string message) -> std::optional<Grants> {
    if (why) *why = std::move(message);
    return std::nullopt;
  };
  if (!v.is_object()) return fail("the realtime claim must be an object");
  Grants g;
  auto list = [&](const char* key, std::vector<std::string>& out) -> bool {
    auto* a = v.get_object().if_contains(key);
    if (!a) return true;
    if (!a->is_array()) {
      if (why) *why = std::string("realtime.") + key + " must be an array of strings";
      return false;
    }
    for (auto& item : a->get_array()) {
      if (!item.is_string()) {
        if (why) *why = std::string("realtime.") + key + " must be an array of strings";
        return false;
      }
      std::string_view p(item.get_string().data(), item.get_string().size());
      if (auto bad = check_pattern(p)) {
        if (why) *why = std::string("realtime.") + key + ": " + *bad;
        return false;
      }
      out.emplace_back(p);
    }
    return true;
  };
  if (!list("subscribe", g.subscribe) || !list("emit", g.emit)) return std::nullopt;
  if (v.get_object().contains("history")) {
    g.history.emplace();
    if (!list("history", *g.history)) return std::nullopt;
  }
  if (auto* a = v.get_object().if_contains("admin")) {
    if (!a->is_bool()) return fail("realtime.admin must be a boolean");
    g.admin = a->get_bool();
  }
  return g;
}

std::optional<std::string> first_denied(const Policy& policy, const Credential* credential,
                                        Operation op, std::span<const std::string> channels) {
  if (op == Operation::admin) {
    if (credential && credential->grants.admin) return std::nullopt;
    return std::string("admin");
  }
  bool readable = op == Operation::subscribe || op == Operation::history;
  for (auto& channel : channels) {
    if (readable && covered(policy.public_channels, channel, {})) continue;
    if (credential && covered(credential->grants.for_operation(op), channel, credential->sub))
      continue;
    return channel;
  }
  return std::nullopt;
}

Decision decide(const Policy& policy, const Credential* credential, Operation op,
                std::span<const std::string> channels) {
  if (!first_denied(policy, credential, op, channels)) return Decision::allow;
  return credential ? Decision::forbidden : Decision::unauthenticated;
}

}  // namespace forrealtime::auth
