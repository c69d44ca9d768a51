// JSON text exactly as JavaScript's JSON.stringify writes it.
//
// The storage format (PROTOCOL.md section 6) is shared with TypeScript peers byte for byte, so
// every JSON text we store or send is written by this writer: no whitespace, keys in insertion
// order, strings escaped like JSON.stringify (only `"`, `\` and control characters), and numbers
// formatted like JavaScript's Number#toString (shortest round trip, `1e+21`, `1e-7`, `-0` as
// `0`, non-finite as `null`). Boost.JSON's own serializer writes doubles as `1E-1`, which a
// TypeScript peer would never produce.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

namespace forrealtime::core {

/** Parses JSON like JavaScript's JSON.parse reads numbers: doubles correctly rounded (Boost.JSON
 *  1.81's own parser may be off by one unit in the last place for long inputs, which would change
 *  a peer's stored bytes). Nesting deeper than 64 levels is refused. */
boost::json::value parse_json(std::string_view text, boost::system::error_code& ec);

/** Appends `v` as JSON.stringify would write it. */
void write_json(const boost::json::value& v, std::string& out);
/** `v` as JSON.stringify would write it. */
std::string to_json(const boost::json::value& v);
/** Appends `s` as a quoted, escaped JSON string. `s` must be valid UTF-8. */
void write_json_string(std::string_view s, std::string& out);
/** Appends a double formatted like JavaScript's Number#toString (null when not finite). */
void write_json_number(double d, std::string& out);

}  // namespace forrealtime::core
