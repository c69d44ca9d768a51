// `forrealtime codegen ts`: TypeScript types from a schema file. Each JSON Schema leaf becomes a
// TypeScript type: object/properties/required -> `{ a: T; b?: U }`, arrays and tuples, enum and
// const -> literal unions, anyOf/oneOf -> unions, allOf -> intersections, type lists -> unions.
// Local $refs are expanded in place. What TypeScript cannot say (remote refs, recursion,
// patterns, conditionals) becomes `unknown`, never a lie.
#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <vector>

#include <boost/json/serialize.hpp>

#include "forrealtime/schema.hpp"

namespace forrealtime {

namespace json = boost::json;

namespace {

bool is_identifier(std::string_view s) {
  if (s.empty()) return false;
  auto start = [](char c) {
    return c == '_' || c == '$' || std::isalpha(static_cast<unsigned char>(c));
  };
  if (!start(s[0])) return false;
  for (char c : s)
    if (!start(c) && !std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string key(std::string_view s) {
  return is_identifier(s) ? std::string(s) : json::serialize(json::string(s));
}

std::string indent(int level) {
  return std::string(static_cast<std::size_t>(level) * 2, ' ');
}

std::string ts_type(const json::value& schema, int level);

// The leaf being written, for local `$ref`s ("#/$defs/x"), and the refs being expanded (a
// recursive type becomes `unknown` where it recurs: no named types in the output).
struct Leaf {
  const json::value* root = nullptr;
  std::vector<std::string_view> expanding;
};
thread_local Leaf* current_leaf = nullptr;

std::string ref_type(std::string_view ref, int level) {
  if (!current_leaf || !ref.starts_with("#")) return "unknown";
  auto& leaf = *current_leaf;
  if (std::find(leaf.expanding.begin(), leaf.expanding.end(), ref) != leaf.expanding.end())
    return "unknown";
  boost::system::error_code ec;
  auto* target = ref.size() == 1 ? leaf.root : leaf.root->find_pointer(ref.substr(1), ec);
  if (!target) return "unknown";
  leaf.expanding.push_back(ref);
  auto t = ts_type(*target, level);
  leaf.expanding.pop_back();
  return t;
}

std::string join(const json::array& parts, std::string_view sep, int level) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    auto t = ts_type(parts[i], level);
    bool wrap = t.find(" | ") != std::string::npos || t.find(" & ") != std::string::npos;
    out += wrap ? "(" + t + ")" : t;
  }
  return parts.empty() ? "never" : out;
}

std::string object_type(const json::object& s, int level) {
  auto* props = s.if_contains("properties");
  auto* ap = s.if_contains("additionalProperties");
  if (!props || !props->is_object() || props->get_object().empty()) {
    if (ap && ap->is_object()) return "{ [key: string]: " + ts_type(*ap, level) + " }";
    if (ap && ap->is_bool() && !ap->get_bool()) return "{}";
    return "{ [key: string]: unknown }";
  }
  std::vector<std::string_view> required;
  if (auto* r = s.if_contains("required"); r && r->is_array())
    for (auto& n : r->get_array())
      if (n.is_string()) required.push_back(n.get_string());
  std::string out = "{\n";
  for (auto& [name, sub] : props->get_object()) {
    bool req =
        std::find(required.begin(), required.end(), std::string_view(name)) != required.end();
    out += indent(level + 1) + key(name) + (req ? ": " : "?: ") + ts_type(sub, level + 1) + ";\n";
  }
  out += indent(level) + "}";
  return out;
}

std::string single(std::string_view type, const json::object& s, int level) {
  if (type == "string") return "string";
  if (type == "number" || type == "integer") return "number";
  if (type == "boolean") return "boolean";
  if (type == "null") return "null";
  if (type == "object") return object_type(s, level);
  if (type == "array") {
    const json::value* tuple = s.if_contains("prefixItems");
    auto* items = s.if_contains("items");
    if (!tuple && items && items->is_array()) tuple = items;
    if (tuple && tuple->is_array()) {
      std::string out = "[";
      auto& a = tuple->get_array();
      for (std::size_t i = 0; i < a.size(); ++i) out += (i ? ", " : "") + ts_type(a[i], level);
      return out + "]";
    }
    if (items && (items->is_object() || items->is_bool())) {
      auto t = ts_type(*items, level);
      bool simple = t.find_first_of(" |&{\n") == std::string::npos;
      return simple ? t + "[]" : "Array<" + t + ">";
    }
    return "unknown[]";
  }
  return "unknown";
}

std::string ts_type(const json::value& schema, int level) {
  if (schema.is_bool()) return schema.get_bool() ? "unknown" : "never";
  auto* s = schema.if_object();
  if (!s) return "unknown";
  if (auto* c = s->if_contains("const")) return json::serialize(*c);
  if (auto* e = s->if_contains("enum"); e && e->is_array()) {
    std::string out;
    for (auto& v : e->get_array()) out += (out.empty() ? "" : " | ") + json::serialize(v);
    return out.empty() ? "never" : out;
  }
  if (auto* r = s->if_contains("$ref"))
    return r->is_string() ? ref_type(r->get_string(), level) : "unknown";
  if (s->contains("if") || s->contains("not")) return "unknown";
  std::string base;
  if (auto* t = s->if_contains("type")) {
    if (t->is_string()) {
      base = single(t->get_string(), *s, level);
    } else if (t->is_array()) {
      for (auto& one : t->get_array())
        if (one.is_string())
          base += (base.empty() ? "" : " | ") + single(one.get_string(), *s, level);
    }
  } else if (s->contains("properties")) {
    base = object_type(*s, level);
  }
  std::string combined;
  for (auto* k : {"anyOf", "oneOf"})
    if (auto* u = s->if_contains(k); u && u->is_array())
      combined = join(u->get_array(), " | ", level);
  if (auto* a = s->if_contains("allOf"); a && a->is_array()) {
    auto all = join(a->get_array(), " & ", level);
    combined = combined.empty() ? all : "(" + combined + ") & " + all;
  }
  if (!combined.empty()) return base.empty() ? combined : "(" + base + ") & (" + combined + ")";
  return base.empty() ? "unknown" : base;
}

}  // namespace

std::string typescript_events(const json::value& file, std::string_view source) {
  if (!file.is_object())
    throw std::invalid_argument("a schema file is a JSON object {namespace: {event: JSON Schema}}");
  std::string out = "// Generated by `forrealtime codegen ts`";
  if (!source.empty()) out += " from " + std::string(source);
  out += ". Do not edit.\n";
  out +=
      "// Use: createRealtime<Events>() / createRealtimeClient<Events>() of "
      "@forrealtime/client.\n\n";
  out += "export type Events = {\n";
  for (auto& [ns, events] : file.get_object()) {
    if (ns.starts_with("$")) continue;
    if (!events.is_object())
      throw std::invalid_argument("\"" + std::string(ns) +
                                  "\" must be an object {event: JSON Schema}");
    out += indent(1) + key(ns) + ": {\n";
    for (auto& [ev, leaf] : events.get_object()) {
      if (auto* d = leaf.is_object() ? leaf.get_object().if_contains("description") : nullptr;
          d && d->is_string()) {
        std::string text(d->get_string());
        for (std::size_t p; (p = text.find("*/")) != std::string::npos;) text.replace(p, 2, "* /");
        out += indent(2) + "/** " + text + " */\n";
      }
      Leaf context{&leaf, {}};
      current_leaf = &context;
      out += indent(2) + key(ev) + ": " + ts_type(leaf, 2) + ";\n";
      current_leaf = nullptr;
    }
    out += indent(1) + "};\n";
  }
  out += "};\n";
  return out;
}

}  // namespace forrealtime
