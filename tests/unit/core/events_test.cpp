#include "core/events.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

using namespace forrealtime::core;
using forrealtime::StreamId;

TEST(Events, StoredMessageFormatIsExact) {
  // PROTOCOL.md section 6: the TypeScript peer's JSON.stringify({channel, event, data}).
  EXPECT_EQ(encode_message("room:1", "chat.message",
                           boost::json::parse(R"({"text":"hi \"x\"","n":1.5})")),
            R"({"channel":"room:1","event":"chat.message","data":{"text":"hi \"x\"","n":1.5}})");
}

TEST(Events, DecodeAcceptsPeersAndRejectsGarbage) {
  auto m = decode_message(R"({"channel":"c","event":"a.b","data":null})");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->channel, "c");
  EXPECT_EQ(m->event, "a.b");
  EXPECT_TRUE(m->data.is_null());
  for (const char* bad :
       {"", "{", "[]", "1", R"({"channel":"c","event":"a.b"})",
        R"({"channel":1,"event":"a.b","data":1})", R"({"channel":"c","event":null,"data":1})"})
    EXPECT_FALSE(decode_message(bad)) << bad;
}

TEST(Events, SystemEventsAndFrames) {
  EXPECT_EQ(connected_json("room", {}), R"({"type":"connected","channel":"room"})");
  EXPECT_EQ(connected_json("room", {17, 3}),
            R"({"type":"connected","channel":"room","cursor":"17-3"})");
  EXPECT_EQ(ping_json(1700000000000), R"({"type":"ping","timestamp":1700000000000})");
  EXPECT_EQ(reconnect_json(5), R"({"type":"reconnect","timestamp":5})");
  EXPECT_EQ(error_json("store\ndown"), R"({"type":"error","error":"store\ndown"})");
  EXPECT_EQ(history_lost_json("c", {1, 0}, {9, 2}),
            R"({"type":"history_lost","channel":"c","last_ack":"1-0","oldest":"9-2"})");
  EXPECT_EQ(sse_frame(R"({"a":1})"), "data: {\"a\":1}\n\n");
  EXPECT_EQ(sse_frame(R"({"a":1})", StreamId{17, 3}), "id: 17-3\ndata: {\"a\":1}\n\n");
  std::string out;
  write_event_json({5, 1}, "c", "a.b", boost::json::parse("[1]"), out);
  EXPECT_EQ(out, R"({"id":"5-1","channel":"c","event":"a.b","data":[1]})");
}
