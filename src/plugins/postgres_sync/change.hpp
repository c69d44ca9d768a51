// The change payload of postgresSync: the JSON text a trigger writes, as a NOTIFY payload
// (notify mode, or a TypeScript peer's trigger) or an outbox row (durable mode):
//   {"table": T, "op": "INSERT"|"UPDATE"|"DELETE", "new": ROW|null, "old": ROW|null
//    [, "truncated": true]}
// Untrusted bytes (any role that may NOTIFY on our channels can send them): this parser never
// throws and never crashes; it turns a payload into a well-formed change of one of our tables
// or refuses it with a `change_error` saying why. Pure: no I/O, no Asio, no libpq (fuzzed by
// tests/fuzz/fuzz_pg_change.cpp).
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include "forrealtime/postgres_sync.hpp"

namespace forrealtime::pg {

enum class change_error {
  not_json = 1,   // not valid JSON (or nested deeper than 32)
  not_object,     // valid JSON, not an object
  no_table,       // "table" missing or not a string
  unknown_table,  // "table" names none of the plugin's tables
  bad_op,         // "op" missing or not INSERT, UPDATE or DELETE
  bad_row,        // "new" (or "old" for DELETE) is present but neither an object nor null
};
const boost::system::error_category& change_category() noexcept;
inline boost::system::error_code make_error_code(change_error e) noexcept {
  return {static_cast<int>(e), change_category()};
}

/** One change of one of our tables, ready to become `<table>.<insert|update|delete>`. */
struct Change {
  std::string table;  // one of `tables`, verbatim
  PgOp op;
  /** The new row (the old one for DELETE); empty when the payload had null; with
   *  `"_truncated": true` when the trigger cut the row down to its key. */
  boost::json::object row;
};

/** Parses a payload; `tables` are the plugin's table names. */
boost::system::result<Change> parse_change(std::string_view payload,
                                           const std::vector<std::string>& tables);

/** "insert" / "update" / "delete": the event name's suffix. */
std::string_view event_suffix(PgOp op);

}  // namespace forrealtime::pg

template <>
struct boost::system::is_error_code_enum<forrealtime::pg::change_error> : std::true_type {};
