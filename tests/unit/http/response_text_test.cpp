// append_head and the body write what Beast's serializer writes, byte for byte (PROTOCOL.md
// compatibility is byte for byte): the start line of each version and status, custom reasons, every
// field in order, bodies, and the head alone for HEAD.
#include "http/response_text.hpp"

#include <sstream>

#include <gtest/gtest.h>
#include <boost/beast/http/write.hpp>

using namespace forrealtime::gateway;

namespace {

std::string beast_bytes(const HttpResponse& res, bool head_only) {
  std::ostringstream os;
  if (head_only)
    os << res.base();
  else
    os << res;
  return os.str();
}

std::string ours(const HttpResponse& res, bool head_only) {
  std::string out = "left alone|";
  append_head(res, out);
  if (!head_only) out += res.body();
  EXPECT_TRUE(out.starts_with("left alone|"));
  return out.substr(11);
}

}  // namespace

TEST(ResponseText, SameBytesAsBeastsSerializer) {
  std::vector<HttpResponse> cases;
  for (unsigned version : {10u, 11u})
    for (auto status : {bhttp::status::ok, bhttp::status::no_content, bhttp::status::not_found,
                        bhttp::status::too_many_requests, bhttp::status::gateway_timeout,
                        static_cast<bhttp::status>(599)}) {
      HttpResponse r{status, version};
      r.set(bhttp::field::server, "forrealtime");
      r.set(bhttp::field::content_type, "application/json");
      r.set(bhttp::field::access_control_allow_origin, "*");
      r.set("X-Custom-Thing", "a value with spaces,  and commas");
      r.keep_alive(version == 11);
      if (status != bhttp::status::no_content) r.body() = R"({"id":"1700000000000-0"})";
      r.prepare_payload();
      cases.push_back(r);
    }
  HttpResponse custom{bhttp::status::ok, 11};
  custom.reason("Fine Indeed");
  custom.set(bhttp::field::retry_after, "3");
  custom.body() = "";
  custom.prepare_payload();
  cases.push_back(custom);
  HttpResponse bare{bhttp::status::ok, 11};
  cases.push_back(bare);
  HttpResponse big{bhttp::status::ok, 11};
  big.body().assign(100000, 'x');
  big.prepare_payload();
  cases.push_back(big);
  for (auto& r : cases) {
    ASSERT_TRUE(plain_response(r));
    for (bool head : {false, true}) EXPECT_EQ(ours(r, head), beast_bytes(r, head));
  }
}

TEST(ResponseText, ChunkedIsNotPlain) {
  HttpResponse r{bhttp::status::ok, 11};
  r.chunked(true);
  EXPECT_FALSE(plain_response(r));
}

// The head of a JSON 200 made once per connection (head_prefix of an empty-bodied response) and
// completed for each body is what append_head writes for the response with that body.
TEST(ResponseText, HeadFromPrefixIsAppendHeadsForEveryBody) {
  auto make = [](unsigned version, bool keep, bool cors, std::string body) {
    HttpResponse res{boost::beast::http::status::ok, version};
    res.set(boost::beast::http::field::server, "forrealtime");
    res.set(boost::beast::http::field::content_type, "application/json");
    if (cors) res.set("Access-Control-Allow-Origin", "*");
    res.keep_alive(keep);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  };
  for (unsigned version : {10u, 11u})
    for (bool keep : {true, false})
      for (bool cors : {true, false}) {
        auto prefix = head_prefix(make(version, keep, cors, ""));
        ASSERT_TRUE(prefix.has_value());
        for (std::string body :
             {std::string(), std::string("{\"id\":\"1-0\"}"), std::string(12345, 'x')}) {
          std::string want;
          append_head(make(version, keep, cors, body), want);
          std::string got = "kept|";
          append_head_from_prefix(*prefix, body.size(), got);
          EXPECT_EQ(got, "kept|" + want) << version << keep << cors << body.size();
          EXPECT_EQ(got.substr(5) + body, beast_bytes(make(version, keep, cors, body), false));
        }
      }
  // A head that does not end with `Content-Length: 0`: no prefix.
  HttpResponse none{boost::beast::http::status::ok, 11};
  none.set(boost::beast::http::field::server, "forrealtime");
  EXPECT_FALSE(head_prefix(none).has_value());
  none.body() = "x";
  none.prepare_payload();
  EXPECT_FALSE(head_prefix(none).has_value());
}
