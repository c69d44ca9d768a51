// postgresSync change payloads (NOTIFY payloads and outbox rows, change.hpp) from untrusted
// bytes. Invariant: parse_change never crashes or throws; a payload is either a well-formed
// change of one of our tables (a valid event name, an object row) that survives a round trip
// through the trigger's own format unchanged, or refused with a code of the change category
// that has a message.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>

#include "core/names.hpp"
#include "plugins/postgres_sync/change.hpp"

namespace pg = forrealtime::pg;
namespace json = boost::json;

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
  auto again = pg::parse_change(json::serialize(o), tables);
  if (!again || again->table != c->table || again->op != c->op || again->row != c->row)
    std::abort();
  return 0;
}
