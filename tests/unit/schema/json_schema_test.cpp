// JsonSchemaSet: a schema file compiled once; every JSON payload checked, with the event name, the
// JSON pointer of the first failing value and a precise reason.
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "forrealtime/schema.hpp"

namespace {

namespace json = boost::json;
using forrealtime::JsonSchemaSet;

const char* kFile = R"({
  "chat": {
    "message": {"type": "object",
                "properties": {"text": {"type": "string", "maxLength": 10},
                               "user": {"type": "object",
                                        "properties": {"id": {"type": "integer"}},
                                        "required": ["id"]},
                               "tags": {"type": "array", "items": {"type": "string"}},
                               "mood": {"enum": ["happy", "sad"]},
                               "n": {"type": ["integer", "null"]}},
                "required": ["text"]},
    "typing": true
  },
  "notification": {"alert": {"type": "string"}}
})";

std::string why_of(const JsonSchemaSet& s, std::string_view event, const char* data) {
  std::string why;
  auto ec = s.check(event, json::parse(data), &why);
  return ec ? why : "ok";
}

TEST(JsonSchemaSet, AcceptsWhatMatches) {
  auto s = JsonSchemaSet::compile(json::parse(kFile));
  EXPECT_EQ(s->size(), 3u);
  EXPECT_TRUE(s->contains("chat.message"));
  EXPECT_FALSE(s->contains("chat"));
  EXPECT_EQ(why_of(*s, "chat.message", R"({"text":"hi","user":{"id":1},"tags":["a"],"n":null})"),
            "ok");
  EXPECT_EQ(why_of(*s, "chat.typing", R"([1,2,3])"), "ok");
  EXPECT_EQ(why_of(*s, "notification.alert", R"("fire")"), "ok");
}

TEST(JsonSchemaSet, SaysWhereAndWhat) {
  auto s = JsonSchemaSet::compile(json::parse(kFile));
  EXPECT_EQ(why_of(*s, "chat.message", R"({"text":42})"),
            "chat.message: /text: expected string, got number");
  EXPECT_EQ(why_of(*s, "chat.message", R"({})"),
            "chat.message: /text: required property is missing");
  EXPECT_EQ(why_of(*s, "chat.message", R"({"text":"a","user":{}})"),
            "chat.message: /user/id: required property is missing");
  EXPECT_EQ(why_of(*s, "chat.message", R"({"text":"a","user":{"id":1.5}})"),
            "chat.message: /user/id: expected integer, got number 1.5E0");
  EXPECT_EQ(why_of(*s, "chat.message", R"({"text":"a","tags":["x",{"y":1}]})"),
            "chat.message: /tags/1: expected string, got object");
  EXPECT_EQ(why_of(*s, "chat.message", R"({"text":"a","mood":"meh"})"),
            R"(chat.message: /mood: expected one of ["happy","sad"])");
  EXPECT_EQ(why_of(*s, "chat.message", R"({"text":"a","n":"1"})"),
            "chat.message: /n: expected integer or null, got string");
  EXPECT_EQ(why_of(*s, "chat.message", R"({"text":"01234567890"})"),
            "chat.message: /text: string should be no more than 10 characters in length");
  EXPECT_EQ(why_of(*s, "chat.message", R"("text")"), "chat.message: expected object, got string");
  EXPECT_EQ(why_of(*s, "notification.alert", R"(null)"),
            "notification.alert: expected string, got null");
}

TEST(JsonSchemaSet, FollowsLocalRefsAndNamesPropertiesThatAreNotAllowed) {
  auto s = JsonSchemaSet::compile(json::parse(R"({"chat": {"message": {
      "type": "object", "properties": {"kind": {"$ref": "#/$defs/kind"}},
      "additionalProperties": false, "$defs": {"kind": {"enum": ["a", "b"]}}}}})"));
  EXPECT_EQ(why_of(*s, "chat.message", R"({"kind":"a"})"), "ok");
  EXPECT_EQ(why_of(*s, "chat.message", R"({"kind":"c"})"),
            R"(chat.message: /kind: expected one of ["a","b"])");
  EXPECT_EQ(why_of(*s, "chat.message", R"({"kind":"a","extra":1})"),
            "chat.message: /extra: property not allowed (additionalProperties)");
}

TEST(JsonSchemaSet, AnUnionFailureSpeaksForAllItsBranches) {
  auto s = JsonSchemaSet::compile(json::parse(R"({"chat": {"message": {
      "type": "object", "properties": {
        "id": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "who": {"oneOf": [{"type": "object", "properties": {"name": {"type": "string"}},
                           "required": ["name"]},
                          {"type": "object", "properties": {"bot": {"type": "boolean"}},
                           "required": ["bot"]}]}}}}})"));
  EXPECT_EQ(why_of(*s, "chat.message", R"({"id":null,"who":{"bot":true}})"), "ok");
  EXPECT_EQ(why_of(*s, "chat.message", R"({"id":5})"),
            "chat.message: /id: expected string or null, got number");
  EXPECT_EQ(why_of(*s, "chat.message", R"({"who":{"bot":"yes"}})"),
            "chat.message: /who: matches none of the oneOf alternatives");
  EXPECT_EQ(why_of(*s, "chat.message", R"({"who":[]})"),
            "chat.message: /who: expected object, got array");
}

TEST(JsonSchemaSet, StrictRefusesUnknownEventsAndNonStrictLetsThemThrough) {
  auto strict = JsonSchemaSet::compile(json::parse(kFile));
  std::string why;
  EXPECT_EQ(strict->check("chat.nope", json::parse("1"), &why), forrealtime::errc::unknown_event);
  EXPECT_EQ(why, "chat.nope: unknown event (not in the schema)");
  EXPECT_EQ(strict->check("chat.message", json::parse("1")), forrealtime::errc::invalid_payload);
  auto loose = JsonSchemaSet::compile(json::parse(kFile), false);
  EXPECT_FALSE(loose->check("other.thing", json::parse("1")));
  EXPECT_TRUE(loose->check("chat.message", json::parse("1")));  // known ones are still checked
}

TEST(JsonSchemaSet, BadFilesAreRefusedWithAClearMessage) {
  auto error_of = [](const char* text) -> std::string {
    try {
      JsonSchemaSet::compile(json::parse(text));
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "compiled";
  };
  EXPECT_EQ(error_of("[]"),
            "a schema file is a JSON object {namespace: {event: JSON Schema}}, not a array");
  EXPECT_EQ(error_of(R"({"chat": 1})"),
            "\"chat\" must be an object {event: JSON Schema}, not a number");
  EXPECT_EQ(error_of(R"({"chat": {"message": "string"}})"),
            "chat.message: the schema must be a JSON Schema object (or true/false), not a string");
  EXPECT_EQ(error_of(R"({"a.b": {"c": {}}})"), "namespace \"a.b\" must not contain a dot");
  EXPECT_EQ(error_of(R"({"chat": {"bad name": {}}})"),
            "\"chat.bad name\": event name contains a space");
  EXPECT_TRUE(
      error_of(R"({"chat": {"m": {"type": 5}}})").starts_with("chat.m: not a valid JSON Schema"))
      << error_of(R"({"chat": {"m": {"type": 5}}})");
  EXPECT_EQ(error_of(R"({"$schema": "x", "chat": {"m": {}}})"), "compiled");
  EXPECT_TRUE(error_of(R"({"chat": {"m": {"properties": {"a": {"pattern": "("}}}}})")
                  .starts_with(R"(chat.m: the pattern "(" is not a valid regular expression)"))
      << error_of(R"({"chat": {"m": {"properties": {"a": {"pattern": "("}}}}})");
  EXPECT_EQ(error_of(R"({"chat": {"m": {"enum": [{"pattern": "("}]}}})"), "compiled");
  EXPECT_TRUE(
      error_of(R"({"chat": {"m": {"$ref": "#/nope"}}})").starts_with("chat.m: not a valid"));
}

TEST(JsonSchemaSet, LoadNamesTheFile) {
  try {
    JsonSchemaSet::load("/nonexistent/schema.json");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "cannot read schema file /nonexistent/schema.json");
  }
}

}  // namespace
