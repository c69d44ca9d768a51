// A C++ schema, dumped as the schema file that `forrealtime serve --schema` and
// `forrealtime codegen ts --schema` read: how a C++ application hands its event types to its
// TypeScript clients.
//
//   chat_events_schema events.schema.json        (or to standard output with no argument)
//   forrealtime codegen ts --schema events.schema.json --out web/src/events.ts
//
// CMakeLists.txt beside this file does both at build time (target chat_events_ts).
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <boost/describe.hpp>
#include <boost/json/serialize.hpp>

#include "forrealtime/typed.hpp"

namespace app {

enum class Presence { online, away, offline };
BOOST_DESCRIBE_ENUM(Presence, online, away, offline)

struct User {
  std::string id;
  std::string name;
  std::optional<std::string> avatar_url;
};
BOOST_DESCRIBE_STRUCT(User, (), (id, name, avatar_url))

struct Message {
  std::string text;
  User author;
  std::vector<std::string> mentions;
  std::optional<std::string> reply_to;
};
BOOST_DESCRIBE_STRUCT(Message, (), (text, author, mentions, reply_to))

struct Status {
  std::string user_id;
  Presence presence;
};
BOOST_DESCRIBE_STRUCT(Status, (), (user_id, presence))

struct Counter {
  std::int64_t value;
  double rate;
};
BOOST_DESCRIBE_STRUCT(Counter, (), (value, rate))

using Events =
    forrealtime::schema<forrealtime::ns<"chat", forrealtime::event<"message", Message>,
                                        forrealtime::event<"status", Status>>,
                        forrealtime::ns<"metrics", forrealtime::event<"counter", Counter>,
                                        forrealtime::event<"note", std::string>>>;

}  // namespace app

int main(int argc, char** argv) {
  auto text = boost::json::serialize(forrealtime::json_schema_file<app::Events>()) + "\n";
  if (argc < 2) {
    std::cout << text;
    return 0;
  }
  std::ofstream out(argv[1], std::ios::binary | std::ios::trunc);
  out << text;
  return out.flush() ? 0 : 1;
}
