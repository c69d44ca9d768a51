// postgresSync change payloads (NOTIFY payloads and outbox rows, change.hpp) from untrusted
// bytes. Invariant: parse_change never crashes or throws; a payload is either a well-formed
// change of one of our tables (a valid event name, an object row) that survives a round trip
// through the trigger's own format unchanged, or refused with a code of the change category
// that has a message.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/json_text.hpp"
#include "core/names.hpp"
#include "plugins/postgres_sync/change.hpp"

namespace pg = forrealtime::pg;
namespace json = boost::json;

namespace {

// `b` is `a` written by our JSON writer and read again: numbers are equal by value (an
// integral double comes back as an integer, as JavaScript writes it); two doubles may differ
// in their last
// bits (Boost.JSON 1.81, Debian's, reads a number with more digits than a double holds to
// within an ulp or two, not always to the nearest double: found by this target with
// 1.6666666666666666666666666666666666666665e3), and a number too large for a double (read as
// infinity) is written as null, as JSON.stringify does (Boost's own serialize would write
// `Infinity`, which is not JSON).
bool same(const json::value& a, const json::value& b) {
  if (a.is_double() && !std::isfinite(a.get_double())) return b.is_null();
  if (a.is_number() && b.is_number()) {  // 1.5e3 comes back as the integer 1500, as in JS
    boost::system::error_code e1, e2;
    double x = a.to_number<double>(e1), y = b.to_number<double>(e2);
    if (e1 || e2) return false;
    return x == y || std::fabs(x - y) <= 1e-15 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto &p = a.get_array(), &q = b.get_array();
    if (p.size() != q.size()) return false;
    for (std::size_t i = 0; i < p.size(); ++i)
      if (!same(p[i], q[i])) return false;
    return true;
  }
  if (a.is_object()) {
    const auto &p = a.get_object(), &q = b.get_object();
    if (p.size() != q.size()) return false;
    for (const auto& [k, v] : p) {
      auto* w = q.if_contains(k);
      if (!w || !same(v, *w)) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::string> tables = {"posts", "comments", "t", "a_b"};
  std::string_view payload(reinterpret_cast<const char*>(data), size);
  boost::system::result<pg::Change> c = make_error_code(pg::change_error::not_json);
  try {
    c = pg::parse_change(payload, tables);
  } catch (...) {
    std::abort();  // an exception on untrusted bytes
  }
  if (!c) {
    if (c.error().category() != pg::change_category() || c.error().message().empty()) std::abort();
    return 0;
  }
  bool ours = false;
  for (auto& t : tables) ours |= t == c->table;
  if (!ours) std::abort();
  std::string event = c->table + "." + std::string(pg::event_suffix(c->op));
  if (forrealtime::core::check_event_name(event)) std::abort();
  // The trigger's format again: the same change comes back.
  json::object o;
  o["table"] = c->table;
  o["op"] = c->op == forrealtime::PgOp::insert   ? "INSERT"
            : c->op == forrealtime::PgOp::update ? "UPDATE"
                                                 : "DELETE";
  o[c->op == forrealtime::PgOp::del ? "old" : "new"] = c->row;
  auto again = pg::parse_change(forrealtime::core::to_json(o), tables);
  if (!again || again->table != c->table || again->op != c->op || !same(c->row, again->row))
    std::abort();
  return 0;
}
