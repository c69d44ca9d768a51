// Forward auth's pure half; see forward.hpp.
#include "auth/forward.hpp"

#include <boost/json/parse.hpp>

#include "core/json_text.hpp"

namespace forrealtime::auth {

std::string forward_body(Operation op, std::span<const std::string> channels) {
  std::string out = "{\"operation\":\"";
  out += to_string(op);
  out += "\",\"channels\":[";
  for (std::size_t i = 0; i < channels.size(); ++i) {
    if (i) out.push_back(',');
    core::write_json_string(channels[i], out);
  }
  out += "]}";
  return out;
}

ForwardDecision interpret_answer(unsigned status, std::string_view body) {
  using K = ForwardDecision::Kind;
  if (status == 401) return {K::unauthenticated, 0, "refused by the auth service (401)"};
  if (status == 403) return {K::forbidden, 0, "refused by the auth service (403)"};
  if (status < 200 || status > 299)
    return {K::unavailable, 0, "the auth service answered " + std::to_string(status)};
  ForwardDecision d{K::allow, 0, {}};
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (!ec && v.is_object())
    if (auto* ttl = v.get_object().if_contains("ttl")) {
      double secs = 0;
      if (ttl->is_int64())
        secs = static_cast<double>(ttl->get_int64());
      else if (ttl->is_uint64())
        secs = static_cast<double>(ttl->get_uint64());
      else if (ttl->is_double())
        secs = ttl->get_double();
      if (secs > 0) d.ttl_secs = secs > 86400 ? 86400 : static_cast<std::uint64_t>(secs);
    }
  if (!ec && v.is_object())
    if (auto* sub = v.get_object().if_contains("subject"); sub && !sub->is_null()) {
      // A subject names whose streams an operator may end: one the service got wrong must not
      // silently become no subject (or a subject that matches another), so it fails closed.
      auto bad = [](std::string_view s) {
        if (s.empty() || s.size() > 256) return true;
        for (unsigned char c : s)
          if (c < 0x20 || c == 0x7f) return true;
        return false;
      };
      if (!sub->is_string() || bad(sub->get_string()))
        return {K::unavailable, 0,
                "the auth service answered a subject that is not a string of 1-256 printable "
                "bytes"};
      d.subject = std::string(sub->get_string());
    }
  if (!ec && v.is_object())
    if (auto* admin = v.get_object().if_contains("admin"))
      d.admin = admin->is_bool() && admin->get_bool();
  return d;
}

std::string cache_key(Operation op, std::span<const std::string> channels,
                      std::optional<std::string_view> cookie,
                      std::optional<std::string_view> authorization) {
  // Lengths before each part, so that no choice of values makes two keys collide.
  std::string key(to_string(op));
  auto part = [&](std::string_view s) {
    key += '|';
    key += std::to_string(s.size());
    key += ':';
    key += s;
  };
  part(cookie ? *cookie : std::string_view("\x01none"));
  part(authorization ? *authorization : std::string_view("\x01none"));
  for (auto& c : channels) part(c);
  return key;
}

std::optional<ForwardDecision> DecisionCache::get(const std::string& key, std::uint64_t now_ms) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  if (now_ms >= it->second.expires_ms) {
    entries_.erase(it);
    return std::nullopt;
  }
  auto d = it->second.decision;
  d.ttl_secs = (it->second.expires_ms - now_ms + 999) / 1000;
  return d;
}

void DecisionCache::put(const std::string& key, const ForwardDecision& d, std::uint64_t now_ms) {
  if (d.kind != ForwardDecision::Kind::allow || d.ttl_secs == 0) return;
  std::lock_guard lock(mu_);
  if (entries_.size() >= capacity_) {
    std::erase_if(entries_, [&](const auto& e) { return now_ms >= e.second.expires_ms; });
    if (entries_.size() >= capacity_) entries_.clear();
  }
  entries_[key] = Entry{d, now_ms + d.ttl_secs * 1000};
}

std::size_t DecisionCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace forrealtime::auth
