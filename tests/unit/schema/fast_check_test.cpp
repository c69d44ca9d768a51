// The fast path may only ever say "passes" where valijson agrees: checked on many generated
// values against valijson itself, for schemas of the subset (C++-derived, Zod-made, hand-made).
// And it must actually take the common payloads, or it is dead weight.
#include <random>

#define VALIJSON_USE_EXCEPTIONS 1
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include "chat_schema.hpp"
#include "schema/fast_check.hpp"

namespace {

namespace json = boost::json;
using forrealtime::schema_detail::FastCheck;

bool valijson_passes(const json::value& schema, const json::value& v) {
  valijson::Schema s;
  valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
  valijson::adapters::BoostJsonAdapter a(schema);
  parser.populateSchema(a, s);
  valijson::Validator validator;
  valijson::adapters::BoostJsonAdapter t(v);
  try {
    return validator.validate(s, t, nullptr);
  } catch (const std::exception&) {
    return false;
  }
}

class Gen {
 public:
  explicit Gen(std::vector<std::string> keys) : keys_(std::move(keys)) {}
  json::value any(int depth = 0) {
    switch (pick(depth > 3 ? 9 : 12)) {
      case 0:
        return nullptr;
      case 1:
        return pick(2) == 1;
      case 2:
        return static_cast<std::int64_t>(pick(2000)) - 1000;
      case 3:
        return std::uint64_t(18446744073709551615ull);
      case 4:
        return static_cast<double>(pick(2000)) / 8 - 100;
      case 5:
        return 2.0;
      case 6:
        return std::int64_t(2147483648);
      case 7:
        return str();
      case 8:
        return json::string(keys_[pick(keys_.size())]);
      case 9: {
        json::array a;
        for (std::size_t i = 0, n = pick(4); i < n; ++i) a.push_back(any(depth + 1));
        return a;
      }
      default: {
        json::object o;
        for (std::size_t i = 0, n = pick(7); i < n; ++i)
          o[pick(6) == 0 ? std::string(str()) : keys_[pick(keys_.size())]] = any(depth + 1);
        return o;
      }
    }
  }

  // Mostly what `schema` asks for, with a random value in some places: near misses.
  json::value near(const json::value& schema, int depth = 0) {
    auto* o = schema.if_object();
    if (!o || pick(8) == 0 || depth > 4) return any(depth);
    if (auto* e = o->if_contains("enum"); e && e->is_array() && !e->get_array().empty())
      return e->get_array()[pick(e->get_array().size())];
    if (auto* c = o->if_contains("const")) return *c;
    std::string type;
    if (auto* t = o->if_contains("type")) {
      if (t->is_string())
        type = t->get_string();
      else if (t->is_array() && !t->get_array().empty())
        type = t->get_array()[pick(t->get_array().size())].as_string();
    }
    if (type == "object" || (type.empty() && o->contains("properties"))) {
      json::object out;
      if (auto* p = o->if_contains("properties"); p && p->is_object())
        for (auto& [k, sub] : p->get_object())
          if (pick(3) != 0) out[k] = near(sub, depth + 1);
      if (auto* r = o->if_contains("required"); r && r->is_array())
        for (auto& k : r->get_array())
          if (pick(10) != 0 && !out.contains(k.as_string()))
            if (auto* sub = o->at("properties").as_object().if_contains(k.as_string()))
              out[k.as_string()] = near(*sub, depth + 1);
      if (auto* ap = o->if_contains("additionalProperties"); ap && ap->is_object() && pick(2))
        out["extra"] = near(*ap, depth + 1);
      return out;
    }
    if (type == "array") {
      json::array a;
      auto* items = o->if_contains("items");
      for (std::size_t i = 0, n = pick(4); i < n; ++i)
        a.push_back(items ? near(*items, depth + 1) : any(depth + 1));
      return a;
    }
    if (type == "integer" || type == "number") {
      double lo = -10, hi = 10;
      if (auto* m = o->if_contains("minimum")) lo = m->to_number<double>();
      if (auto* m = o->if_contains("maximum")) hi = m->to_number<double>();
      switch (pick(4)) {
        case 0:
          return static_cast<std::int64_t>(lo);
        case 1:
          return static_cast<std::int64_t>(hi);
        case 2:
          return type == "number" ? json::value(lo + 0.25) : json::value(std::int64_t(1));
        default:
          return std::int64_t(0);
      }
    }
    if (type == "string") return str();
    if (type == "boolean") return pick(2) == 1;
    if (type == "null") return nullptr;
    return any(depth);
  }

 private:
  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  json::string str() {
    static const char* pieces[] = {"a", "hello", "\xc3\xa9", "\xf0\x9f\x98\x80", "info", "sad"};
    json::string s;
    for (std::size_t i = 0, n = pick(12); i < n; ++i) s.append(pieces[pick(6)]);
    if (pick(10) == 0) s.append(std::string_view("\0z", 2));
    return s;
  }
  std::mt19937 rng_{12345};
  std::vector<std::string> keys_;
};

void collect_keys(const json::value& s, std::vector<std::string>& keys) {
  if (auto* o = s.if_object()) {
    if (auto* p = o->if_contains("properties"); p && p->is_object())
      for (auto& [k, v] : p->get_object()) keys.emplace_back(k);
    if (auto* e = o->if_contains("enum"); e && e->is_array())
      for (auto& v : e->get_array())
        if (v.is_string()) keys.emplace_back(v.get_string());
    for (auto& [k, v] : *o) collect_keys(v, keys);
  } else if (auto* a = s.if_array()) {
    for (auto& v : *a) collect_keys(v, keys);
  }
}

int never_passes_what_valijson_refuses(const json::value& schema, int rounds = 4000) {
  auto fast = FastCheck::compile(schema);
  EXPECT_TRUE(fast) << "not in the subset: " << json::serialize(schema);
  if (!fast) return 0;
  std::vector<std::string> keys{"other"};
  collect_keys(schema, keys);
  Gen gen(keys);
  int passed = 0;
  for (int i = 0; i < rounds; ++i) {
    auto v = i % 2 ? gen.any() : gen.near(schema);
    if (fast->passes(v)) {
      ++passed;
      EXPECT_TRUE(valijson_passes(schema, v))
          << "fast path passed what valijson refuses:\n  schema " << json::serialize(schema)
          << "\n  value  " << json::serialize(v);
    }
  }
  return passed;
}

TEST(FastCheck, AgreesWithValijsonOnTheDerivedCppSchemas) {
  auto file = forrealtime::json_schema_file<chat_test::Events>();
  for (auto& [ns, events] : file.as_object())
    for (auto& [ev, leaf] : events.as_object())
      // A test that passes nothing proves nothing: a good share must be taken by the fast path.
      EXPECT_GT(never_passes_what_valijson_refuses(leaf), 200) << ns << "." << ev;
}

TEST(FastCheck, AgreesWithValijsonOnHandMadeSchemas) {
  for (
      const char* s : {
          R"({"type":"object","properties":{"text":{"type":"string","minLength":2,"maxLength":6},
               "n":{"type":["integer","null"],"minimum":-5,"maximum":100}},
               "required":["text"],"additionalProperties":false})",
          R"({"type":"object","additionalProperties":{"type":"array","items":{"type":"number"}}})",
          R"({"type":"array","items":{"enum":["info","sad",null,true]}})",
          R"({"properties":{"a":{"const":"hello"},"b":false,"c":true},"required":["c"]})",
          R"({"type":"string","$schema":"http://json-schema.org/draft-07/schema#","description":"d"})",
          R"({"type":"number","minimum":0.5,"maximum":2})",
          R"(true)",
      })
    EXPECT_GT(never_passes_what_valijson_refuses(json::parse(s)), 100) << s;
}

TEST(FastCheck, TakesTheCommonPayloadsAndDeclinesTheRest) {
  auto zod = json::parse(R"({"$schema":"http://json-schema.org/draft-07/schema#","type":"object",
      "properties":{"text":{"type":"string","maxLength":500},
                    "user":{"type":"object","properties":{"id":{"type":"string"}},"required":["id"],
                            "additionalProperties":false},
                    "n":{"type":"integer","minimum":-9007199254740991,"maximum":9007199254740991}},
      "required":["text","user"],"additionalProperties":false})");
  auto fast = FastCheck::compile(zod);
  ASSERT_TRUE(fast);
  EXPECT_TRUE(fast->passes(json::parse(R"({"text":"hi","user":{"id":"u"},"n":3})")));
  EXPECT_FALSE(fast->passes(json::parse(R"({"text":"hi","user":{"id":"u"},"x":3})")));
  EXPECT_FALSE(fast->passes(json::parse(R"({"text":"hi","user":{"id":3}})")));
  auto cpp = forrealtime::json_schema_file<chat_test::Events>();
  auto msg = FastCheck::compile(cpp.at("chat").at("message"));
  ASSERT_TRUE(msg);
  EXPECT_TRUE(msg->passes(
      json::parse(R"({"text":"t","author":{"name":"n"},"tags":["a"],"reply_to":1,"score":1.5})")));
  // Outside the subset: valijson alone.
  for (const char* s :
       {R"({"anyOf":[{"type":"string"}]})", R"({"$ref":"#/x"})", R"({"pattern":"a+"})",
        R"({"items":[{"type":"string"}]})", R"({"enum":[1,2]})", R"({"type":"strin"})"})
    EXPECT_FALSE(FastCheck::compile(json::parse(s))) << s;
}

}  // namespace
