// The real program with a schema file: `serve --schema` checks every JSON emit (400 with the
// event, the JSON pointer and the reason; nothing of a refused batch is stored), `--no-strict`
// lets unknown events through, a bad file stops the start, and `codegen ts` writes the types.
#include <sys/wait.h>
#include <unistd.h>
#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "support/net.hpp"

namespace {

using fr_test::GatewayProcess;
using fr_test::http;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/fr-schema-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  std::string write(const std::string& name, const std::string& text) const {
    auto p = path_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const char* kSchema = R"({
  "chat": {
    "message": {"type": "object",
                "properties": {"text": {"type": "string"}, "user": {"type": "string"}},
                "required": ["text"]}
  }
})";

// Runs the program with `args`; returns the exit status and what it wrote to stderr.
std::pair<int, std::string> run(const std::string& args) {
  auto cmd = std::string(FORREALTIME_BIN) + " " + args + " 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  while (auto n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(GatewaySchema, ChecksEveryEmit) {
  TempDir dir;
  GatewayProcess gw({"--schema", dir.write("events.json", kSchema)});
  auto ok = http(gw.port(), "POST", "/api/emit",
                 R"({"channel":"room","event":"chat.message","data":{"text":"hi","user":"ann"}})");
  EXPECT_EQ(ok.status, 200) << ok.body;

  auto bad = http(gw.port(), "POST", "/api/emit",
                  R"({"channel":"room","event":"chat.message","data":{"text":42}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, R"({"error":"chat.message: /text: expected string, got number"})");

  auto missing = http(gw.port(), "POST", "/api/emit",
                      R"({"channel":"room","event":"chat.message","data":{"user":"ann"}})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.body, R"({"error":"chat.message: /text: required property is missing"})");

  auto unknown =
      http(gw.port(), "POST", "/api/emit", R"({"channel":"room","event":"chat.typing","data":{}})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.body, R"x({"error":"chat.typing: unknown event (not in the schema)"})x");

  // A batch with one bad item: 400 naming the item, and nothing of the batch is stored.
  auto batch = http(gw.port(), "POST", "/api/emit",
                    R"([{"channel":"room","event":"chat.message","data":{"text":"a"}},
                        {"channel":"room","event":"chat.message","data":{"text":["b"]}}])");
  EXPECT_EQ(batch.status, 400);
  EXPECT_EQ(batch.body, R"({"error":"item 1: chat.message: /text: expected string, got array"})");

  auto h = http(gw.port(), "GET", "/api/history?channel=room").json().as_array();
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].at("data"), boost::json::parse(R"({"text":"hi","user":"ann"})"));
}

TEST(GatewaySchema, NoStrictAcceptsUnknownEventsButChecksKnownOnes) {
  TempDir dir;
  GatewayProcess gw({"--schema", dir.write("events.json", kSchema), "--no-strict"});
  EXPECT_EQ(http(gw.port(), "POST", "/api/emit", R"({"event":"other.thing","data":1})").status,
            200);
  EXPECT_EQ(http(gw.port(), "POST", "/api/emit", R"({"event":"chat.message","data":1})").status,
            400);
}

TEST(GatewaySchema, ConfigFileNamesTheSchema) {
  TempDir dir;
  auto schema = dir.write("events.json", kSchema);
  auto config = dir.write("config.json", R"({"schema": ")" + schema + R"(", "strict": false})");
  GatewayProcess gw({"--config", config});
  EXPECT_EQ(http(gw.port(), "POST", "/api/emit", R"({"event":"chat.message","data":{}})").status,
            400);
  EXPECT_EQ(http(gw.port(), "POST", "/api/emit", R"({"event":"x.y","data":{}})").status, 200);
}

TEST(GatewaySchema, ABadSchemaFileStopsTheStart) {
  TempDir dir;
  auto [code, out] =
      run("serve --port 0 --schema " + dir.write("bad.json", R"({"chat": {"message": "string"}})"));
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("forrealtime serve: --schema: schema file " + dir.path() +
                     "/bad.json: chat.message: the schema must be a JSON Schema object (or "
                     "true/false), not a string"),
            std::string::npos)
      << out;
  auto [code2, out2] = run("serve --port 0 --schema " + dir.write("broken.json", "{"));
  EXPECT_EQ(code2, 2);
  EXPECT_NE(out2.find("is not valid JSON"), std::string::npos) << out2;
  auto [code3, out3] = run("serve --port 0 --schema " + dir.path() + "/absent.json");
  EXPECT_EQ(code3, 2);
  EXPECT_NE(out3.find("cannot read schema file"), std::string::npos) << out3;
}

TEST(CodegenTs, WritesTheTypesOfASchemaFile) {
  TempDir dir;
  auto schema = dir.write("events.json", kSchema);
  auto [code, out] = run("codegen ts --schema " + schema + " --out " + dir.path() + "/events.ts");
  ASSERT_EQ(code, 0) << out;
  std::ifstream in(dir.path() + "/events.ts");
  std::string ts((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(ts.find("export type Events = {\n  chat: {\n    message: {\n      text: string;\n"
                    "      user?: string;\n    };\n  };\n};\n"),
            std::string::npos)
      << ts;
  auto [code2, out2] = run("codegen ts --schema " + dir.write("bad.json", "[1]"));
  EXPECT_EQ(code2, 2);
  EXPECT_NE(out2.find("forrealtime codegen ts: schema file"), std::string::npos) << out2;
}

}  // namespace
