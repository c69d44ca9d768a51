// The gateway's `postgres` config-file section -> PostgresSyncOptions. A filter in a file is
// data, not code: `{"ops": ["INSERT", ...], "where": {"column": value, ...}}` keeps a change
// when its operation is listed (all when absent) and every listed column equals the value.
#include <stdexcept>

#include "forrealtime/postgres_sync.hpp"

namespace forrealtime {

namespace json = boost::json;

namespace {

[[noreturn]] void bad(const std::string& what) {
  throw std::invalid_argument("postgres: " + what);
}

std::string str(const json::value& v, const std::string& key) {
  if (!v.is_string()) bad(key + " must be a string");
  return std::string(v.as_string());
}

std::function<bool(const json::object&, PgOp)> filter_from_json(const json::value& f,
                                                                const std::string& table) {
  if (!f.is_object()) bad("tables." + table + ".filter must be an object");
  std::vector<PgOp> ops;
  json::object where;
  bool has_ops = false;
  for (auto& [k, v] : f.as_object()) {
    if (k == "ops") {
      has_ops = true;
      if (!v.is_array()) bad("tables." + table + ".filter.ops must be an array");
      for (auto& o : v.as_array()) {
        auto s = o.is_string() ? std::string(o.as_string()) : std::string();
        for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (s == "INSERT")
          ops.push_back(PgOp::insert);
        else if (s == "UPDATE")
          ops.push_back(PgOp::update);
        else if (s == "DELETE")
          ops.push_back(PgOp::del);
        else
          bad("tables." + table + ".filter.ops: INSERT, UPDATE or DELETE");
      }
    } else if (k == "where") {
      if (!v.is_object()) bad("tables." + table + ".filter.where must be an object");
      where = v.as_object();
    } else {
      bad("unknown key tables." + table + ".filter." + std::string(k));
    }
  }
  return [ops, where, has_ops](const json::object& row, PgOp op) {
    if (has_ops && std::find(ops.begin(), ops.end(), op) == ops.end()) return false;
    for (auto& [col, want] : where) {
      auto* got = row.if_contains(col);
      if (!got || *got != want) return false;
    }
    return true;
  };
}

}  // namespace

PostgresSyncOptions postgres_sync_options_from_json(const json::value& config) {
  if (!config.is_object()) bad("the section must be an object");
  PostgresSyncOptions o;
  for (auto& [key, v] : config.as_object()) {
    std::string k(key);
    if (k == "url")
      o.connection = str(v, k);
    else if (k == "schema")
      o.pg_schema = str(v, k);
    else if (k == "channel")
      o.realtime_channel = str(v, k);
    else if (k == "mode") {
      auto m = str(v, k);
      if (m == "durable")
        o.mode = PgSyncMode::durable;
      else if (m == "notify")
        o.mode = PgSyncMode::notify;
      else
        bad("mode must be durable or notify");
    } else if (k == "poll_interval_ms") {
      o.poll_interval = std::chrono::milliseconds(v.to_number<std::int64_t>());
    } else if (k == "tables") {
      if (!v.is_array()) bad("tables must be an array");
      for (auto& t : v.as_array()) {
        if (t.is_string()) {
          o.tables.emplace_back(std::string(t.as_string()));
          continue;
        }
        if (!t.is_object()) bad("each table is a name or {name, channel, filter}");
        PgTable pt;
        for (auto& [tk, tv] : t.as_object()) {
          if (tk == "name")
            pt.name = str(tv, "tables[].name");
          else if (tk == "channel")
            pt.realtime_channel = str(tv, "tables[].channel");
          else if (tk != "filter")
            bad("unknown key tables[]." + std::string(tk));
        }
        if (auto* f = t.as_object().if_contains("filter"))
          pt.filter = filter_from_json(*f, pt.name);
        o.tables.push_back(std::move(pt));
      }
    } else {
      bad("unknown key '" + k + "'");
    }
  }
  return o;
}

}  // namespace forrealtime
