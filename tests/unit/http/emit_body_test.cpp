// encode_emit_body, the one-pass reading of a single emit, answers exactly what parse_emit_body and
// core::to_json would (the stored bytes are byte for byte those of the general path), and leaves
// everything unusual to parse_emit_body (which then answers its own 400s).
#include "http/emit_body.hpp"

#include <gtest/gtest.h>

#include "core/events.hpp"
#include "core/json_text.hpp"

using namespace forrealtime::gateway;

namespace {

// The general path's item, with its data written as the stores get it.
struct Item {
  std::string channel, event, data, key;
};

std::optional<Item> general(std::string_view body, std::string_view header_key = {}) {
  auto parsed = parse_emit_body(body, header_key);
  auto* b = std::get_if<EmitBody>(&parsed);
  if (!b || b->batch || b->items.size() != 1) return std::nullopt;
  auto& i = b->items[0];
  return Item{i.channel, i.event, forrealtime::core::to_json(i.data), i.idempotency_key};
}

// Either both paths agree on a single emit, or the fast one declines.
void same(std::string_view body, std::string_view header_key = {}, bool fast_expected = true) {
  SCOPED_TRACE(std::string(body));
  auto fast = encode_emit_body(body, header_key);
  auto slow = general(body, header_key);
  EXPECT_EQ(fast.has_value(), fast_expected);
  if (!fast) return;
  ASSERT_TRUE(slow.has_value());
  EXPECT_EQ(fast->channel, slow->channel);
  EXPECT_EQ(fast->event, slow->event);
  EXPECT_EQ(fast->data, slow->data);
  EXPECT_EQ(fast->idempotency_key, slow->key);
  boost::system::error_code ec;
  auto data = forrealtime::core::parse_json(slow->data, ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(forrealtime::core::encode_message_text(fast->channel, fast->event, fast->data),
            forrealtime::core::encode_message(slow->channel, slow->event, data));
}

}  // namespace

TEST(EmitBody, OnePassWritesWhatTheGeneralPathStores) {
  same(R"({"channel":"c1","event":"chat.message","data":{"text":"hi","n":1}})");
  same(R"({"event":"chat.message","data":null})");  // channel "default"
  same(
      R"({"data":[1,2.5,-0,1e21,1e-7,0.1,123456789012345678901234567890,-9007199254740993],"event":"a.b"})");
  same(
      R"( { "event" : "a.b" , "data" : { "a" : [ { } , [ ] , "x\u0000\n\"\\\/é\ud83d\ude00" ] , "b" : true , "c" : false } } )");
  same(R"({"event":"a.b","data":"plain","other":{"data":1,"data":2},"x":[1,{"y":null}]})");
  same(R"({"event":"a.b","data":1.7976931348623157e309})");  // out of range: what Boost gives
  same(R"({"event":"a.b","data":{"k":{"k":{"k":1}},"l":[[[]]]}})");
  same(R"({"event":"a.b","data":{"a":1},"idempotency_key":"k-1"})", "hdr");
  same(R"({"event":"a.b","data":{"a":1}})", "hdr");
  same(R"({"event":"a\u002eb","ch\u0061nnel":"x","data":"\u00e9"})");
  // Every one of 32 keys kept, in order.
  std::string many = R"({"event":"a.b","data":{)";
  for (int i = 0; i < 32; ++i)
    many += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
  same(many + "}}");
}

TEST(EmitBody, OnePassDeclinesWhatItDoesNotRead) {
  for (std::string_view body : {
           R"([{"event":"a.b","data":1}])",  // a batch
           R"("text")",
           R"(1)",
           R"(null)",  // not an object
           R"({"event":"a.b"})",
           R"({"data":1})",  // a field missing
           R"({"event":1,"data":1})",
           R"({"event":"a.b","data":1,"channel":["c"]})",
           R"({"event":"a.b","data":1,"idempotency_key":7})",
           R"({"event":"a.b","data":1,"idempotency_key":"with space"})",
           R"({"event":"a.b","event":"c.d","data":1})",  // duplicates: Boost keeps the last value
           R"({"event":"a.b","data":1,"data":2})",
           R"({"event":"a.b","data":{"a":1,"b":2,"a":3}})",
           R"({"event":"a.b","data":[{"x":1,"x":{}}]})",
           R"({"event":"a.b","data":1)",
           R"({"event":"a.b","data":1}x)",
           R"({"event":"a.b","data":tru})",
           "{\"event\":\"a.b\",\"data\":\"\xff\"}",  // not UTF-8
           "",
       })
    same(body, {}, false);
  // 33 keys in one object of data: left to the general path (no quadratic search for duplicates).
  std::string many = R"({"event":"a.b","data":{)";
  for (int i = 0; i < 33; ++i)
    many += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
  same(many + "}}", {}, false);
  // Nesting past 64 levels: refused by the general path too.
  same(R"({"event":"a.b","data":)" + std::string(70, '[') + std::string(70, ']') + "}", {}, false);
}
