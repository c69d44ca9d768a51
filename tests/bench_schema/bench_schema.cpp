// What a schema check costs per emit, next to the rest of the emit path of POST /api/emit:
// parsing the body, checking the payload (a typical 5-field object: the fast path, and valijson
// alone), encoding the stored message. Run: build/schema/tests/bench_schema/schema_bench
#include <benchmark/benchmark.h>
#include <boost/describe.hpp>
#include <boost/json/parse.hpp>

#include "core/events.hpp"
#include "core/json_text.hpp"
#include "forrealtime/schema.hpp"
#include "forrealtime/typed.hpp"

namespace {

namespace json = boost::json;

struct Message {
  std::string text;
  std::string user;
  std::string room;
  std::int64_t ts;
  bool urgent;
};
BOOST_DESCRIBE_STRUCT(Message, (), (text, user, room, ts, urgent))
using Events = forrealtime::schema<forrealtime::ns<"chat", forrealtime::event<"message", Message>>>;

const std::string kBody =
    R"({"channel":"room:1","event":"chat.message","data":{"text":"hello world, how are you?",)"
    R"("user":"ann","room":"r1","ts":1700000000000,"urgent":false}})";

const json::value& body() {
  static const json::value v = json::parse(kBody);
  return v;
}
const json::value& data() {
  return body().at("data");
}

std::shared_ptr<const forrealtime::JsonSchemaSet> set() {
  static const auto s =
      forrealtime::JsonSchemaSet::compile(forrealtime::json_schema_file<Events>(), true);
  return s;
}

void ParseBody(benchmark::State& st) {
  for (auto _ : st) {
    boost::system::error_code ec;
    auto v = forrealtime::core::parse_json(kBody, ec);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(ParseBody);

void EncodeMessage(benchmark::State& st) {
  for (auto _ : st) {
    auto m = forrealtime::core::encode_message("room:1", "chat.message", data());
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(EncodeMessage);

void ValidatePass(benchmark::State& st) {
  auto s = set();
  for (auto _ : st) {
    auto ec = s->check("chat.message", data());
    benchmark::DoNotOptimize(ec);
  }
}
BENCHMARK(ValidatePass);

// The same check with the fast path out of the way (a leaf outside its subset): valijson alone.
void ValidatePassValijsonOnly(benchmark::State& st) {
  auto file = forrealtime::json_schema_file<Events>();
  auto& leaf = file.at("chat").at("message");
  leaf = {{"allOf", json::array{leaf}}};
  auto s = forrealtime::JsonSchemaSet::compile(file, true);
  for (auto _ : st) {
    auto ec = s->check("chat.message", data());
    benchmark::DoNotOptimize(ec);
  }
}
BENCHMARK(ValidatePassValijsonOnly);

void ValidateFailWithReason(benchmark::State& st) {
  auto s = set();
  auto bad =
      json::parse(R"({"text":42,"user":"ann","room":"r1","ts":1700000000000,"urgent":false})");
  for (auto _ : st) {
    std::string why;
    auto ec = s->check("chat.message", bad, &why);
    benchmark::DoNotOptimize(ec);
  }
}
BENCHMARK(ValidateFailWithReason);

// The part of POST /api/emit that runs per item before the store: parse + (check) + encode.
void EmitPath(benchmark::State& st) {
  bool with_schema = st.range(0) != 0;
  auto s = set();
  for (auto _ : st) {
    boost::system::error_code ec;
    auto v = forrealtime::core::parse_json(kBody, ec);
    auto& o = v.get_object();
    auto& d = o.at("data");
    if (with_schema && s->check("chat.message", d)) st.SkipWithError("refused");
    auto m = forrealtime::core::encode_message("room:1", "chat.message", d);
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(EmitPath)->Arg(0)->Arg(1)->ArgName("schema");

void TypedToJson(benchmark::State& st) {
  Message m{"hello world, how are you?", "ann", "r1", 1700000000000, false};
  for (auto _ : st) {
    auto v = forrealtime::to_json(m);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(TypedToJson);

void TypedFromJson(benchmark::State& st) {
  for (auto _ : st) {
    Message m;
    std::string why;
    bool ok = forrealtime::from_json(data(), m, why);
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(TypedFromJson);

}  // namespace

BENCHMARK_MAIN();
