// The schema the schema tests share: two namespaces, structs with optional and nested members,
// a described enum and a plain string payload.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/describe.hpp>

#include "forrealtime/typed.hpp"

namespace chat_test {

enum class Level { info, warning, critical };
BOOST_DESCRIBE_ENUM(Level, info, warning, critical)

struct Author {
  std::string name;
  std::optional<std::string> avatar;
};
BOOST_DESCRIBE_STRUCT(Author, (), (name, avatar))

struct Message {
  std::string text;
  Author author;
  std::vector<std::string> tags;
  std::optional<std::int64_t> reply_to;
  double score = 0;
};
BOOST_DESCRIBE_STRUCT(Message, (), (text, author, tags, reply_to, score))

struct Typing {
  std::string user;
  bool typing = false;
};
BOOST_DESCRIBE_STRUCT(Typing, (), (user, typing))

struct Alert {
  Level level = Level::info;
  std::string body;
  std::map<std::string, int> counts;
};
BOOST_DESCRIBE_STRUCT(Alert, (), (level, body, counts))

using Events =
    forrealtime::schema<forrealtime::ns<"chat", forrealtime::event<"message", Message>,
                                        forrealtime::event<"typing", Typing>>,
                        forrealtime::ns<"notification", forrealtime::event<"alert", Alert>,
                                        forrealtime::event<"text", std::string>>>;

}  // namespace chat_test
