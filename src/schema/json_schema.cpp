// JsonSchemaSet: the schema file's leaves compiled once into valijson schemas, and the check of
// one JSON payload. A payload that passes costs one validation with no result collection; only
// a failing one is validated again to collect the first error, which is then turned into a
// precise text (JSON pointer, expected and actual type) by looking at the schema and the value.
#include "forrealtime/schema.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#define VALIJSON_USE_EXCEPTIONS 1
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "core/names.hpp"
#include "schema/fast_check.hpp"

namespace forrealtime {

namespace json = boost::json;

struct JsonSchemaSet::Impl {
  struct Entry {
    json::value source;  // the leaf, for error texts
    valijson::Schema schema;
    std::unique_ptr<schema_detail::FastCheck> fast;  // null when the leaf is outside its subset
  };
  json::value file;
  bool strict = true;
  // Keyed by `namespace.event`; heterogeneous lookup by string_view.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::unique_ptr<Entry>, Hash, std::equal_to<>> events;
};

namespace {

std::string kind_of(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "number";
    case json::kind::string:
      return "string";
    case json::kind::array:
      return "array";
    case json::kind::object:
      return "object";
  }
  return "value";
}

// valijson's context: {"<root>", "[text]", "[0]"} -> segments {"text", "0"}.
std::vector<std::string> segments_of(const std::vector<std::string>& context) {
  std::vector<std::string> out;
  for (std::size_t i = 1; i < context.size(); ++i) {
    const auto& c = context[i];
    if (c.size() >= 2 && c.front() == '[' && c.back() == ']')
      out.push_back(c.substr(1, c.size() - 2));
    else
      out.push_back(c);
  }
  return out;
}

std::string pointer_of(const std::vector<std::string>& segments) {
  std::string p;
  for (const auto& s : segments) {
    p.push_back('/');
    for (char c : s) {
      if (c == '~')
        p += "~0";
      else if (c == '/')
        p += "~1";
      else
        p.push_back(c);
    }
  }
  return p;
}

// The value at `segments` in `v`, or null when there is none.
const json::value* value_at(const json::value& v, const std::vector<std::string>& segments) {
  const json::value* cur = &v;
  for (const auto& s : segments) {
    if (auto* o = cur->if_object()) {
      cur = o->if_contains(s);
    } else if (auto* a = cur->if_array()) {
      std::size_t i = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
      if (ec != std::errc() || i >= a->size()) return nullptr;
      cur = &(*a)[i];
    } else {
      return nullptr;
    }
    if (!cur) return nullptr;
  }
  return cur;
}

// Follows a local `$ref` ("#/$defs/x", within the leaf), a few levels deep at most.
const json::object* deref(const json::value& root, const json::object* s) {
  for (int i = 0; s && i < 8; ++i) {
    auto* ref = s->if_contains("$ref");
    if (!ref || !ref->is_string() || !ref->get_string().starts_with("#")) return s;
    boost::system::error_code ec;
    auto ptr = std::string_view(ref->get_string()).substr(1);
    auto* target = ptr.empty() ? &root : root.find_pointer(ptr, ec);
    s = target ? target->if_object() : nullptr;
  }
  return s;
}

// The subschema that applies at `segments`, following properties / items / additionalProperties
// and local $refs (not combinators: then there is none and the text is less precise).
const json::object* schema_at(const json::value& schema, const std::vector<std::string>& segments) {
  const json::object* cur = deref(schema, schema.if_object());
  for (const auto& s : segments) {
    if (!cur) return nullptr;
    const json::value* next = nullptr;
    if (auto* props = cur->if_contains("properties"); props && props->is_object())
      next = props->get_object().if_contains(s);
    if (!next) {
      std::size_t i = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
      bool index = ec == std::errc() && p == s.data() + s.size();
      const json::value* tuple = cur->if_contains("prefixItems");
      auto* items = cur->if_contains("items");
      if (!tuple && items && items->is_array()) tuple = items;
      if (index && tuple && tuple->is_array() && i < tuple->get_array().size())
        next = &tuple->get_array()[i];
      else if (index && items && items->is_object())
        next = items;
      else if (auto* ap = cur->if_contains("additionalProperties"); ap && ap->is_object())
        next = ap;
    }
    cur = next ? deref(schema, next->if_object()) : nullptr;
  }
  return cur;
}

// The names in a schema's "type" (a string or a list), added to `out` once each.
void add_type_names(const json::object& schema, std::vector<std::string>& out) {
  auto add = [&](const json::value& t) {
    if (!t.is_string()) return;
    std::string name(t.get_string());
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  };
  auto* t = schema.if_contains("type");
  if (!t) return;
  if (auto* a = t->if_array())
    for (const auto& one : *a) add(one);
  else
    add(*t);
}

// "string", "string or null", "string, number or null"
std::string format_types(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

std::string expected_types(const json::object& schema) {
  std::vector<std::string> names;
  add_type_names(schema, names);
  return format_types(names);
}

std::string lower_first(std::string s) {
  if (!s.empty() && s.front() >= 'A' && s.front() <= 'Z')
    s.front() = static_cast<char>(s.front() - 'A' + 'a');
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

bool is_combinator_error(const std::string& d) {
  return d.starts_with("Failed to validate against any schemas allowed by anyOf") ||
         d.starts_with("Failed to validate against any child schemas allowed by oneOf");
}

// valijson lists the errors of anyOf/oneOf branches before the combinator's own: the first
// error then speaks of one branch only ("/a: required property is missing" when the value was
// meant for another). The outermost combinator that encloses the first error speaks for all.
const valijson::ValidationResults::Error& pick_error(
    const std::vector<valijson::ValidationResults::Error>& errors) {
  const auto& first = errors.front();
  for (const auto& e : errors) {
    if (!is_combinator_error(e.description)) continue;
    if (e.context.size() <= first.context.size() &&
        std::equal(e.context.begin(), e.context.end(), first.context.begin()))
      return e;
  }
  return first;
}

// "chat.message: /text: expected string, got number"
std::string explain(std::string_view event, const json::value& leaf, const json::value& data,
                    const valijson::ValidationResults::Error& error) {
  auto segs = segments_of(error.context);
  const auto& d = error.description;
  std::string reason;
  static constexpr std::string_view missing = "Missing required property '";
  if (d.starts_with(missing)) {
    auto name = d.substr(missing.size());
    if (auto q = name.rfind('\''); q != std::string::npos) name.resize(q);
    segs.push_back(name);
    reason = "required property is missing";
  } else if (d.starts_with("Object contains a property that could not be validated")) {
    // "...: 'extra'." -> /extra
    auto q2 = d.rfind('\'');
    auto q1 = q2 == std::string::npos || q2 == 0 ? std::string::npos : d.rfind('\'', q2 - 1);
    if (q1 != std::string::npos) segs.push_back(d.substr(q1 + 1, q2 - q1 - 1));
    reason = "property not allowed (additionalProperties)";
  } else if (d.starts_with("Value type not permitted")) {
    auto* v = value_at(data, segs);
    auto* s = schema_at(leaf, segs);
    std::string want = s ? expected_types(*s) : std::string();
    std::string got = v ? kind_of(*v) : "value";
    if (v && v->is_double() && (want == "integer")) got = "number " + json::serialize(*v);
    reason =
        want.empty() ? "a " + got + " is not allowed here" : "expected " + want + ", got " + got;
  } else if (is_combinator_error(d)) {
    // "expected string or null, got number" when every branch names its types.
    auto* s = schema_at(leaf, segs);
    const json::value* branches = nullptr;
    if (s) branches = s->if_contains(d.find("anyOf") != std::string::npos ? "anyOf" : "oneOf");
    std::vector<std::string> want;
    bool every_branch_typed = branches && branches->is_array();
    if (every_branch_typed) {
      for (const auto& b : branches->get_array()) {
        auto* bs = deref(leaf, b.if_object());
        if (bs) add_type_names(*bs, want);
        // A branch without "type" may take anything: types say nothing then.
        if (!bs || !bs->contains("type")) every_branch_typed = false;
      }
    }
    auto* v = value_at(data, segs);
    std::string got = v ? kind_of(*v) : "value";
    auto named = [&](std::string_view t) {
      return std::find(want.begin(), want.end(), t) != want.end();
    };
    // A value of a type some branch takes failed inside that branch: types say nothing then.
    bool type_fits = named(got) || (got == "number" && named("integer"));
    std::string which = d.find("anyOf") != std::string::npos ? "anyOf" : "oneOf";
    reason = !every_branch_typed || want.empty() || type_fits
                 ? "matches none of the " + which + " alternatives"
                 : "expected " + format_types(want) + ", got " + got;
  } else if (d.starts_with("Failed to match against any enum values")) {
    auto* s = schema_at(leaf, segs);
    auto* e = s ? s->if_contains("enum") : nullptr;
    reason = e ? "expected one of " + json::serialize(*e) : "not one of the allowed values";
  } else if (d.starts_with("Failed to match expected value set by 'const'")) {
    auto* s = schema_at(leaf, segs);
    auto* c = s ? s->if_contains("const") : nullptr;
    reason = c ? "expected " + json::serialize(*c) : "not the expected constant";
  } else {
    reason = lower_first(d);
  }
  std::string out(event);
  out += ": ";
  if (!segs.empty()) out += pointer_of(segs) + ": ";
  out += reason;
  return out;
}

void fail(const std::string& what) {
  throw std::invalid_argument(what);
}

// valijson compiles `pattern` and `patternProperties` regexes when it first meets a string:
// a bad one would refuse every payload at run time. Compile them here, so the start fails.
void check_patterns(const json::value& v, const std::string& name) {
  auto try_regex = [&](std::string_view re) {
    try {
      std::regex r{std::string(re)};
    } catch (const std::regex_error& e) {
      fail(name + ": the pattern \"" + std::string(re) + "\" is not a valid regular expression (" +
           e.what() + ")");
    }
  };
  if (auto* a = v.if_array()) {
    for (const auto& x : *a) check_patterns(x, name);
    return;
  }
  auto* o = v.if_object();
  if (!o) return;
  for (const auto& [k, x] : *o) {
    if (k == "enum" || k == "const" || k == "default" || k == "examples") continue;  // data
    if (k == "pattern" && x.is_string()) try_regex(x.get_string());
    if (k == "patternProperties" && x.is_object())
      for (const auto& [re, sub] : x.get_object()) try_regex(re);
    check_patterns(x, name);
  }
}

}  // namespace

JsonSchemaSet::JsonSchemaSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JsonSchemaSet::~JsonSchemaSet() = default;

std::shared_ptr<const JsonSchemaSet> JsonSchemaSet::compile(const json::value& file, bool strict) {
  auto impl = std::make_unique<Impl>();
  impl->file = file;
  impl->strict = strict;
  if (!file.is_object())
    fail("a schema file is a JSON object {namespace: {event: JSON Schema}}, not a " +
         kind_of(file));
  for (const auto& [ns, events] : file.get_object()) {
    if (ns.starts_with("$")) continue;  // "$schema", "$comment" at the top are allowed
    if (!events.is_object())
      fail("\"" + std::string(ns) + "\" must be an object {event: JSON Schema}, not a " +
           kind_of(events));
    for (const auto& [ev, leaf] : events.get_object()) {
      std::string name = std::string(ns) + "." + std::string(ev);
      if (ns.find('.') != std::string_view::npos)
        fail("namespace \"" + std::string(ns) + "\" must not contain a dot");
      if (auto e = core::check_event_name(name)) fail("\"" + name + "\": " + *e);
      if (!leaf.is_object() && !leaf.is_bool())
        fail(name + ": the schema must be a JSON Schema object (or true/false), not a " +
             kind_of(leaf));
      auto entry = std::make_unique<Impl::Entry>();
      entry->source = leaf;
      try {
        valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
        valijson::adapters::BoostJsonAdapter adapter(entry->source);
        parser.populateSchema(adapter, entry->schema);
      } catch (const std::exception& e) {
        fail(name + ": not a valid JSON Schema: " + e.what());
      }
      check_patterns(entry->source, name);
      entry->fast = schema_detail::FastCheck::compile(entry->source);
      impl->events.emplace(std::move(name), std::move(entry));
    }
  }
  return std::shared_ptr<const JsonSchemaSet>(new JsonSchemaSet(std::move(impl)));
}

std::shared_ptr<const JsonSchemaSet> JsonSchemaSet::load(const std::string& path, bool strict) {
  std::ifstream in(path);
  if (!in) fail("cannot read schema file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  auto v = json::parse(ss.str(), ec);
  if (ec) fail("schema file " + path + " is not valid JSON: " + ec.message());
  try {
    return compile(v, strict);
  } catch (const std::invalid_argument& e) {
    fail("schema file " + path + ": " + e.what());
  }
  return nullptr;
}

boost::system::error_code JsonSchemaSet::check(std::string_view event, const json::value& data,
                                               std::string* why) const {
  auto it = impl_->events.find(event);
  if (it == impl_->events.end()) {
    if (!impl_->strict) return {};
    if (why) *why = std::string(event) + ": unknown event (not in the schema)";
    return errc::unknown_event;
  }
  // The validator only caches compiled regexes (keyed by pattern): one per thread, shared by
  // every schema, so that concurrent checks share nothing.
  const auto& entry = *it->second;
  if (entry.fast && entry.fast->passes(data)) return {};
  thread_local valijson::Validator validator;
  valijson::adapters::BoostJsonAdapter target(data);
  // valijson throws on a few values it cannot convert (an unsigned beyond int64 under a
  // minimum): untrusted input is answered, never thrown through the emit path.
  try {
    if (validator.validate(entry.schema, target, nullptr)) return {};
    if (why) {
      valijson::ValidationResults results;
      validator.validate(entry.schema, target, &results);
      std::vector<valijson::ValidationResults::Error> errors;
      for (valijson::ValidationResults::Error e; results.popError(e);) errors.push_back(e);
      if (!errors.empty())
        *why = explain(event, entry.source, data, pick_error(errors));
      else
        *why = std::string(event) + ": the payload does not match the schema";
    }
  } catch (const std::exception& e) {
    if (why) *why = std::string(event) + ": the payload cannot be checked: " + e.what();
  }
  return errc::invalid_payload;
}

bool JsonSchemaSet::contains(std::string_view event) const {
  return impl_->events.find(event) != impl_->events.end();
}
std::size_t JsonSchemaSet::size() const {
  return impl_->events.size();
}
bool JsonSchemaSet::strict() const {
  return impl_->strict;
}
const json::value& JsonSchemaSet::json() const {
  return impl_->file;
}

Schema make_schema(std::shared_ptr<const JsonSchemaSet> set) {
  Schema s;
  s.check = [set](std::string_view event, const json::value& data) -> Result<void> {
    if (auto ec = set->check(event, data)) return ec;
    return {};
  };
  s.check_with_reason = [set](std::string_view event, const json::value& data,
                              std::string& why) -> Result<void> {
    if (auto ec = set->check(event, data, &why)) return ec;
    return {};
  };
  return s;
}

}  // namespace forrealtime
