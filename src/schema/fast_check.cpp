// FastCheck: see fast_check.hpp. Every rule below mirrors what valijson (strict types, draft 7)
// does for the same keyword, or declines: a value kind whose comparison could differ (a double
// where an integer is wanted, a non-string enum value) is "not sure", never "passes".
#include "schema/fast_check.hpp"

#include <valijson/utils/utf8_utils.hpp>

namespace forrealtime::schema_detail {

namespace json = boost::json;

namespace {

enum : unsigned {
  t_null = 1,
  t_boolean = 2,
  t_integer = 4,
  t_number = 8,
  t_string = 16,
  t_array = 32,
  t_object = 64,
};

unsigned type_bit(std::string_view t) {
  if (t == "null") return t_null;
  if (t == "boolean") return t_boolean;
  if (t == "integer") return t_integer;
  if (t == "number") return t_number;
  if (t == "string") return t_string;
  if (t == "array") return t_array;
  if (t == "object") return t_object;
  return 0;
}

bool is_annotation(std::string_view k) {
  return k == "title" || k == "description" || k == "$comment" || k == "default" ||
         k == "examples" || k == "$schema" || k == "readOnly" || k == "writeOnly";
}

// valijson (strict): an integer is an int64, a number an int64 or a double (uint64: see passes).
bool has_type(unsigned types, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return types & t_null;
    case json::kind::bool_:
      return types & t_boolean;
    case json::kind::int64:
      return types & (t_integer | t_number);
    case json::kind::double_:
      return types & t_number;
    case json::kind::uint64:
      return false;
    case json::kind::string:
      return types & t_string;
    case json::kind::array:
      return types & t_array;
    case json::kind::object:
      return types & t_object;
  }
  return false;
}

}  // namespace

FastCheck::FastCheck() = default;
FastCheck::~FastCheck() = default;

std::unique_ptr<FastCheck> FastCheck::compile(const json::value& schema) {
  auto f = std::make_unique<FastCheck>();
  if (!f->compile_into(schema)) return nullptr;
  return f;
}

bool FastCheck::compile_into(const json::value& schema) {
  if (schema.is_bool()) {
    (schema.get_bool() ? always_ : never_) = true;
    return true;
  }
  auto* o = schema.if_object();
  if (!o) return false;
  for (const auto& [key, val] : *o) {
    std::string_view k = key;
    if (is_annotation(k)) continue;
    if (k == "type") {
      if (val.is_string()) {
        types_ = type_bit(val.get_string());
        if (!types_) return false;
      } else if (auto* a = val.if_array()) {
        for (auto& t : *a) {
          unsigned b = t.is_string() ? type_bit(t.get_string()) : 0;
          if (!b) return false;
          types_ |= b;
        }
        if (!types_) return false;
      } else {
        return false;
      }
    } else if (k == "properties") {
      if (!val.is_object()) return false;
      for (const auto& [name, sub] : val.get_object()) {
        auto c = compile(sub);
        if (!c) return false;
        properties_.emplace(std::string(name), std::move(c));
      }
    } else if (k == "required") {
      if (!val.is_array()) return false;
      for (auto& n : val.get_array()) {
        if (!n.is_string()) return false;
        required_.emplace_back(n.get_string());
      }
    } else if (k == "additionalProperties") {
      if (val.is_bool()) {
        extra_ = val.get_bool() ? Extra::any : Extra::none;
      } else {
        extra_schema_ = compile(val);
        if (!extra_schema_) return false;
        extra_ = Extra::schema;
      }
    } else if (k == "items") {
      if (!val.is_object() && !val.is_bool()) return false;  // tuples: valijson only
      items_ = compile(val);
      if (!items_) return false;
    } else if (k == "enum" || k == "const") {
      json::array values;
      if (k == "const")
        values.push_back(val);
      else if (val.is_array())
        values = val.get_array();
      else
        return false;
      // Only strings, booleans and null compare the same way everywhere.
      for (auto& v : values)
        if (!v.is_string() && !v.is_bool() && !v.is_null()) return false;
      if (enum_) return false;  // both enum and const: leave it to valijson
      enum_ = std::move(values);
    } else if (k == "minimum" || k == "maximum") {
      if (!val.is_number()) return false;
      (k == "minimum" ? minimum_ : maximum_) = val.to_number<double>();
    } else if (k == "minLength" || k == "maxLength") {
      if (!val.is_int64() && !val.is_uint64()) return false;
      auto n = val.to_number<std::uint64_t>();
      (k == "minLength" ? min_length_ : max_length_) = n;
    } else {
      return false;
    }
  }
  return true;
}

bool FastCheck::passes(const json::value& v) const {
  if (always_) return true;
  if (never_) return false;
  // valijson's adapters treat an unsigned beyond int64 as neither integer nor double, and
  // throw on it under minimum/maximum: let valijson (and its caller's catch) judge it.
  if (v.is_uint64()) return false;
  if (types_ && !has_type(types_, v)) return false;
  if (enum_) {
    bool found = false;
    for (auto& e : *enum_)
      if (e.kind() == v.kind() && e == v) {
        found = true;
        break;
      }
    if (!found) return false;
  }
  switch (v.kind()) {
    case json::kind::object: {
      const auto& o = v.get_object();
      for (const auto& [key, val] : o) {
        auto it = properties_.find(std::string_view(key));
        if (it != properties_.end()) {
          if (!it->second->passes(val)) return false;
        } else if (extra_ == Extra::none) {
          return false;
        } else if (extra_ == Extra::schema && !extra_schema_->passes(val)) {
          return false;
        }
      }
      for (const auto& r : required_)
        if (!o.contains(r)) return false;
      return true;
    }
    case json::kind::array:
      if (items_)
        for (const auto& x : v.get_array())
          if (!items_->passes(x)) return false;
      return true;
    case json::kind::string:
      if (min_length_ || max_length_) {
        // valijson's own count (code points up to the first NUL), so that both agree.
        std::string s(v.get_string());
        auto n = valijson::utils::u8_strlen(s.c_str());
        if (min_length_ && n < *min_length_) return false;
        if (max_length_ && n > *max_length_) return false;
      }
      return true;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      if (minimum_ || maximum_) {
        double d = v.to_number<double>();
        if (minimum_ && !(d >= *minimum_)) return false;
        if (maximum_ && !(d <= *maximum_)) return false;
      }
      return true;
    default:
      return true;
  }
}

}  // namespace forrealtime::schema_detail
