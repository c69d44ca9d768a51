// make_hub_entry frames a stored message without decoding it when the message is already in our
// writer's form; the frame must be byte for byte what decoding and writing it again gives.
#include <functional>

#include <gtest/gtest.h>

#include "core/events.hpp"
#include "core/json_text.hpp"
#include "hub/hub.hpp"

namespace forrealtime::detail {
namespace {

// The frame as the slow path (decode, write again) makes it; nothing for invalid messages.
std::optional<std::string> reference(std::string_view channel, const StoredEntry& e) {
  auto msg = core::decode_message(e.message);
  if (!msg) return std::nullopt;
  std::string json;
  core::write_event_json(e.id, channel, msg->event, msg->data, json);
  return core::sse_frame(json, e.id);
}

void check(std::string_view message, bool fast, std::string_view channel = "room/1") {
  StoredEntry e{StreamId{1732000000123, 7}, std::string(message)};
  auto h = make_hub_entry(channel, e);
  auto want = reference(channel, e);
  SCOPED_TRACE(std::string(message));
  ASSERT_EQ(static_cast<bool>(h), want.has_value());
  if (!h) return;
  EXPECT_EQ(h->frame->bytes, *want);
  EXPECT_EQ(h->frame->id, e.id);
  auto msg = core::decode_message(e.message);
  EXPECT_EQ(h->event, msg->event);
  EXPECT_EQ(h->data(), msg->data);
  EXPECT_EQ(core::to_json(h->data()), h->data_json);
  EXPECT_EQ(!h->decoded.has_value(), fast) << "fast path taken or not";
}

TEST(HubEntry, OurWritersMessagesAreFramedWithoutDecoding) {
  for (auto* data :
       {R"({})", R"([])", R"(null)", R"(true)", R"(false)", R"(0)", R"(-1)", R"("")",
        R"(123456789012345)", R"(-999999999999999)", R"(1764500000000000)", R"(-9007199254740992)",
        R"({"a":1,"b":[1,2,{"c":"d"}],"e":null})", R"("tab\tquote\"back\\slash\nnl\rcr\bbs\fff")",
        R"([[[[[]]]]])", R"({"a":{"a":{"a":1}},"b":{"a":2}})", "\"del\x7f\""}) {
    auto message = core::encode_message("ignored", "update", [&] {
      boost::system::error_code ec;
      auto v = core::parse_json(data, ec);
      EXPECT_FALSE(ec) << data;
      return v;
    }());
    check(message, true);
  }
}

TEST(HubEntry, OtherSpellingsGoThroughTheDecoderAndGiveTheSameBytes) {
  for (
      auto* m : {
          R"({"channel":"c","event":"e","data":1.0})",
          R"({"channel":"c","event":"e","data":1.5})",
          R"({"channel":"c","event":"e","data":1e3})",
          R"({"channel":"c","event":"e","data":-0})",
          R"({"channel":"c","event":"e","data":12345678901234567890123})",
          R"({"channel":"c","event":"e","data":9999999999999999999})",
          R"({"channel":"c","event":"e","data":9007199254740993})",
          R"({"channel":"c","event":"e","data":9223372036854775807})",
          R"({"channel":"c","event":"e","data":-9223372036854775808})",
          R"({"channel":"c","event":"e","data":18446744073709551615})",
          R"({"channel":"c","event":"e","data":[1,-0]})",
          R"({"channel":"c","event":"e","data":-12345678901234567890})",
          R"({"channel":"c","event":"e","data":{"a":1,"a":2}})",
          R"({"channel":"c","event":"e","data":"\u0041\/"})",
          R"({"channel":"c","event":"e","data":"\u001f"})",
          R"({"channel":"c","event":"e","data":"é"})",
          R"({"channel":"c","event":"é","data":1})",
          R"({"channel":"c","event":"a\"b","data":1})",
          R"({"channel":"c","event":"e","data": 1})",
          R"({"channel":"c","event":"e","data":[1, 2]})",
          R"({ "channel":"c","event":"e","data":1})",
          R"({"event":"e","channel":"c","data":1})",
          R"({"channel":"c","event":"e","data":1,"extra":2})",
          R"({"channel":"c\u0041","event":"e","data":1})",
          R"({"channel":"c","event":"e","data":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]})",
      })
    check(m, false);
}

TEST(HubEntry, InvalidMessagesGiveNothing) {
  for (auto* m : {
           "",
           "{",
           "[]",
           R"({"channel":"c","event":"e"})",
           R"({"channel":"c","event":"e","data":})",
           R"({"channel":"c","event":"e","data":01})",
           R"({"channel":"c","event":"e","data":1}x)",
           R"({"channel":"c","event":"e","data":1})"
           "}",
           R"({"channel":1,"event":"e","data":1})",
           R"({"channel":"c","event":2,"data":1})",
           "{\"channel\":\"c\",\"event\":\"e\",\"data\":\"\xff\"}",
           "{\"channel\":\"c\",\"event\":\"e\",\"data\":\"a\nb\"}",
           R"({"channel":"c","event":"e","data":tru})",
           R"({"channel":"c","event":"e","data":[1,]})",
           R"({"channel":"c","event":"e","data":{"a"}})",
           R"({"channel":"c","event":"e","data":"\x"})",
       })
    check(m, false);
}

TEST(HubEntry, TheChannelWrittenIsTheOneAskedForNotTheStoredOne) {
  check(R"({"channel":"other","event":"e","data":1})", true, "mine \"quoted\"");
}

}  // namespace
}  // namespace forrealtime::detail

namespace forrealtime::detail {
namespace {

// Random values in random spellings (our writer's, and the small variations a peer might write):
// whichever path a message takes, its frame is the decoder's.
TEST(HubEntry, RandomMessagesGiveTheDecodersFrame) {
  std::uint64_t seed = 0x9e3779b97f4a7c15ULL;
  auto next = [&](unsigned n) {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return static_cast<unsigned>(seed % n);
  };
  static const char* atoms[] = {"0",
                                "-0",
                                "7",
                                "-12",
                                "1.5",
                                "1e2",
                                "123456789012345",
                                "1234567890123456",
                                "9007199254740992",
                                "9007199254740993",
                                "-9007199254740993",
                                "1764500000000000",
                                "123456789012345678",
                                "1234567890123456789",
                                "true",
                                "false",
                                "null",
                                "\"\"",
                                "\"a\\\"b\"",
                                "\"\\u0041\"",
                                "\"\\/\"",
                                "\"x\\ty\"",
                                "\"\x7f\"",
                                "\"\xc3\xa9\""};
  std::function<void(std::string&, int)> value = [&](std::string& out, int depth) {
    unsigned k = depth > 3 ? 0 : next(4);
    if (k == 0 || k == 1) {
      out.append(atoms[next(std::size(atoms))]);
    } else if (k == 2) {
      out.push_back('[');
      for (unsigned i = 0, n = next(4); i < n; ++i) {
        if (i) out.append(next(8) ? "," : " ,");
        value(out, depth + 1);
      }
      out.push_back(']');
    } else {
      out.push_back('{');
      for (unsigned i = 0, n = next(4); i < n; ++i) {
        if (i) out.push_back(',');
        out.append("\"k").push_back(static_cast<char>('a' + next(3)));
        out.append(next(8) ? "\":" : "\" :");
        value(out, depth + 1);
      }
      out.push_back('}');
    }
  };
  for (int i = 0; i < 3000; ++i) {
    std::string m = R"({"channel":"c","event":"e","data":)";
    value(m, 0);
    m.push_back('}');
    StoredEntry e{StreamId{5, 1}, m};
    auto h = make_hub_entry("c", e);
    auto want = reference("c", e);
    ASSERT_EQ(static_cast<bool>(h), want.has_value()) << m;
    if (h) {
      ASSERT_EQ(h->frame->bytes, *want) << m;
    }
  }
}

}  // namespace
}  // namespace forrealtime::detail
