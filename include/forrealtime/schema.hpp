// JSON input checked at run time: a schema file is a two-level JSON object
// `{namespace: {event: JSON Schema}}`, each leaf a JSON Schema (draft 7, as valijson reads it),
// compiled once into a validator. `make_schema` turns it into the `Options::schema` that every
// JSON emit goes through (POST /api/emit, plugins, `Channel::emit`, `Channel::emit_json`).
//
//   auto set = forrealtime::JsonSchemaSet::load("events.schema.json");   // throws on a bad file
//   forrealtime::Realtime rt({.schema = forrealtime::make_schema(set)});
//   rt.emit("chat.message", {{"text", 42}});
//     // -> errc::invalid_payload, why: "chat.message: /text: expected string, got number"
//
// Typed C++ schemas (typed.hpp) derive the same two-level JSON from their types and use this
// to check the JSON that reaches them.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include "forrealtime/realtime.hpp"

namespace forrealtime {

/** The compiled validators of a schema file. Immutable once built; `check` may be called from
 *  any number of threads at once. */
class JsonSchemaSet {
 public:
  /** Compiles `file` (the two-level object). Throws std::invalid_argument saying what is wrong
   *  (not an object, a leaf that is not a JSON Schema, a bad event name) — a start-up error.
   *  `strict`: an event that is not in the file is refused; otherwise it passes unchecked. */
  static std::shared_ptr<const JsonSchemaSet> compile(const boost::json::value& file,
                                                      bool strict = true);
  /** Reads and compiles a file; throws std::invalid_argument naming the file. */
  static std::shared_ptr<const JsonSchemaSet> load(const std::string& path, bool strict = true);

  ~JsonSchemaSet();
  JsonSchemaSet(const JsonSchemaSet&) = delete;
  JsonSchemaSet& operator=(const JsonSchemaSet&) = delete;

  /** Nothing when `data` may be emitted as `event`; otherwise errc::unknown_event or
   *  errc::invalid_payload, and `why` (when given) is the event name, the JSON pointer of the
   *  first failing value and the reason: "chat.message: /text: expected string, got number". */
  boost::system::error_code check(std::string_view event, const boost::json::value& data,
                                  std::string* why = nullptr) const;

  /** True when `event` (`namespace.name`) has a schema. */
  bool contains(std::string_view event) const;
  /** Number of events in the file. */
  std::size_t size() const;
  bool strict() const;
  /** The file as given. */
  const boost::json::value& json() const;

 private:
  struct Impl;
  explicit JsonSchemaSet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/** An `Options::schema` that checks every JSON payload against `set`. */
Schema make_schema(std::shared_ptr<const JsonSchemaSet> set);

/** TypeScript for the clients: `export type Events = { ns: { event: Payload } }`, the nested
 *  form `createRealtime<Events>()` accepts, from a schema file (what a JSON Schema cannot say in
 *  TypeScript becomes `unknown`). Throws std::invalid_argument when `file` is not two-level. */
std::string typescript_events(const boost::json::value& file, std::string_view source = {});

}  // namespace forrealtime
