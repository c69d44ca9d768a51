// Finding a request's token and redacting it from logged targets; see token.hpp.
#include "auth/token.hpp"

#include "core/query.hpp"

namespace forrealtime::auth {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    auto piece = trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    auto eq = piece.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim(piece.substr(0, eq)) != name) continue;
    auto value = trim(piece.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    return value;
  }
  return std::nullopt;
}

std::optional<std::string> find_token(std::optional<std::string_view> authorization,
                                      std::optional<std::string_view> cookie,
                                      std::string_view query, std::string_view cookie_name) {
  if (authorization) {
    auto a = trim(*authorization);
    if (a.size() > 7 && iequals(a.substr(0, 7), "bearer ")) {
      auto t = trim(a.substr(7));
      if (!t.empty()) return std::string(t);
    }
  }
  if (cookie && !cookie_name.empty())
    if (auto v = cookie_value(*cookie, cookie_name); v && !v->empty()) return std::string(*v);
  if (!query.empty())
    if (auto form = core::parse_form(query))
      for (auto& [k, v] : *form)
        if (k == "token" && !v.empty()) return v;
  return std::nullopt;
}

std::string redact_target(std::string_view target) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, q + 1));
  auto rest = target.substr(q + 1);
  std::string_view fragment;
  if (auto h = rest.find('#'); h != std::string_view::npos) {
    fragment = rest.substr(h);
    rest = rest.substr(0, h);
  }
  bool first = true;
  while (true) {
    auto amp = rest.find('&');
    auto piece = rest.substr(0, amp);
    if (!first) out.push_back('&');
    first = false;
    auto eq = piece.find('=');
    auto raw_name = piece.substr(0, eq);
    auto name = core::form_decode(raw_name);
    if (!name || iequals(*name, "token"))
      out.append(raw_name).append("=REDACTED");
    else
      out.append(piece);
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  out.append(fragment);
  return out;
}

}  // namespace forrealtime::auth
