// Form decoding and the subscribe query (PROTOCOL.md section 1). The percent-decoding is
// Boost.URL's; what is ours is the form rules on top of it (`&`, `=`, `+`, empty pieces).
#include "core/query.hpp"

#include <algorithm>
#include <string>

#include <boost/url/pct_string_view.hpp>

#include "core/names.hpp"
#include "core/numbers.hpp"

namespace forrealtime::core {
namespace {

// Boost.URL checks every '%' for two hex digits, then decodes; `+` is a space only in forms.
std::optional<std::string> decode(std::string_view s, bool plus_is_space) {
  auto pct = boost::urls::make_pct_string_view(s);
  if (!pct) return std::nullopt;
  boost::urls::encoding_opts opts;
  opts.space_as_plus = plus_is_space;
  return pct->decode(opts);
}

}  // namespace

std::optional<std::string> form_decode(std::string_view s) {
  return decode(s, true);
}

std::optional<std::string> percent_decode(std::string_view s) {
  return decode(s, false);
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    auto piece = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    if (piece.empty()) continue;
    auto eq = piece.find('=');
    auto name = form_decode(piece.substr(0, eq));
    auto value =
        form_decode(eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

std::string_view query_of(std::string_view target) {
  auto hash = target.find('#');
  if (hash != std::string_view::npos) target = target.substr(0, hash);
  auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

std::string_view path_of(std::string_view target) {
  auto end = target.find_first_of("?#");
  return end == std::string_view::npos ? target : target.substr(0, end);
}

std::variant<SubscribeRequest, QueryError> parse_subscribe(std::string_view query,
                                                           std::size_t max_channels) {
  auto form = parse_form(query);
  if (!form) return QueryError{"the query string has a malformed percent-encoding"};
  SubscribeRequest req;
  bool any_channel = false;
  for (auto& [name, value] : *form) {
    if (name != "channel") continue;
    any_channel = true;
    if (auto why = check_channel(value)) return QueryError{"invalid channel: " + *why};
    if (std::find(req.channels.begin(), req.channels.end(), value) != req.channels.end()) continue;
    if (req.channels.size() == max_channels)
      return QueryError{"too many channels on one connection (the limit is " +
                        std::to_string(max_channels) + ")"};
    req.channels.push_back(std::move(value));
  }
  if (!any_channel) req.channels.push_back("default");
  req.last_acks.resize(req.channels.size());
  constexpr std::string_view kAck = "last_ack_";
  for (auto& [name, value] : *form) {
    if (!name.starts_with(kAck)) continue;
    auto channel = std::string_view(name).substr(kAck.size());
    auto it = std::find(req.channels.begin(), req.channels.end(), channel);
    if (it == req.channels.end()) continue;  // an ack for a channel not asked for: ignored
    auto id = StreamId::parse(value);
    if (!id) return QueryError{"invalid " + name + ": expected a stream id like 1700000000000-0"};
    req.last_acks[it - req.channels.begin()] = *id;
  }
  return req;
}

std::variant<HistoryRequest, QueryError> parse_history(std::string_view query) {
  auto form = parse_form(query);
  if (!form) return QueryError{"malformed query string"};
  HistoryRequest req;
  bool limit_given = false;
  for (auto& [k, v] : *form) {
    if (k == "channel") {
      req.channel = v;
    } else if (k == "limit") {
      auto n = parse_decimal<std::uint64_t>(v);
      if (!n || *n == 0)
        return QueryError{"limit must be a positive integer (at most 18446744073709551615)"};
      req.limit = static_cast<std::size_t>(std::min<std::uint64_t>(*n, kMaxHistoryLimit));
      limit_given = true;
    } else if (k == "last") {
      // Digits only (no sign, space or hex); anything over 1000 is out of range.
      bool digits = !v.empty() && v.find_first_not_of("0123456789") == std::string::npos;
      if (!digits) return QueryError{"last must be a number from 1 to 1000"};
      auto n = parse_decimal<std::uint64_t>(v);
      if (!n || *n == 0 || *n > kMaxHistoryLimit)
        return QueryError{"last must be from 1 to 1000 (the newest events, at most 1000)"};
      req.last = static_cast<std::size_t>(*n);
    } else if (k == "after") {
      auto id = StreamId::parse(v);
      if (!id) return QueryError{"after must be a stream id"};
      req.after = *id;
    } else if (k == "start" || k == "end") {
      auto n = parse_decimal<std::uint64_t>(v);
      if (!n)
        return QueryError{k +
                          " must be milliseconds since the epoch (at most 18446744073709551615)"};
      (k == "start" ? req.start : req.end) = *n;
    }
  }
  if (req.last && limit_given)
    return QueryError{"last and limit cannot be given together: last=N is the newest N events"};
  return req;
}

}  // namespace forrealtime::core
