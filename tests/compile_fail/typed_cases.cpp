// Misuses of the typed API that must not compile, one per CASE_* macro; with none defined the
// file is correct and must compile (the control that keeps the other cases honest). run.cmake
// compiles each case and checks that it fails with the expected diagnostic text.
#include <set>

#include <boost/describe.hpp>

#include "forrealtime/typed.hpp"

struct Message {
  std::string text;
};
BOOST_DESCRIBE_STRUCT(Message, (), (text))
struct Typing {
  std::string user;
};
BOOST_DESCRIBE_STRUCT(Typing, (), (user))

using Events = forrealtime::schema<forrealtime::ns<"chat", forrealtime::event<"message", Message>,
                                                   forrealtime::event<"typing", Typing>>>;

#if defined(CASE_UNSUPPORTED_PAYLOAD)
using Bad = forrealtime::schema<forrealtime::ns<"chat", forrealtime::event<"set", std::set<int>>>>;
#elif defined(CASE_DUPLICATE_EVENT)
using Bad = forrealtime::schema<forrealtime::ns<"chat", forrealtime::event<"message", Message>,
                                                forrealtime::event<"message", Typing>>>;
#elif defined(CASE_DOTTED_NAMESPACE)
using Bad =
    forrealtime::schema<forrealtime::ns<"chat.room", forrealtime::event<"message", Message>>>;
#else
using Bad = Events;
#endif

void use(forrealtime::TypedRealtime<Events>& rt) {
  auto room = rt.channel("room");
  // The control: every form of correct use.
  (void)rt.emit<"chat.message">(Message{"hi"});
  (void)rt.emit<"chat.message">({.text = "hi"});
  (void)room.emit<"chat.typing">(Typing{"ann"});
  (void)room.emit("chat.typing", {{"user", "ann"}});
  auto s1 = room.subscribe<"chat.message">([](const Message&, const forrealtime::Event&) {});
  auto s2 = room.subscribe<"chat.typing">([](const Typing&) {});
  auto s4 =
      rt.subscribe<"chat.typing">([](const Typing&) {}, forrealtime::HistoryQuery{.limit = 10});
  (void)forrealtime::json_schema_file<Bad>();
  auto h = room.history<"chat.message">();
  (void)room.history();
#if defined(CASE_WRONG_EVENT_NAME)
  (void)rt.emit<"chat.mesage">(Message{"hi"});
#elif defined(CASE_WRONG_PAYLOAD)
  (void)room.emit<"chat.typing">(Message{"hi"});
#elif defined(CASE_WRONG_FIELD)
  (void)room.emit<"chat.typing">({.text = "hi"});
#elif defined(CASE_SUBSCRIBE_WRONG_NAME)
  auto s3 = room.subscribe<"chat.messages">([](const Message&) {});
#elif defined(CASE_SUBSCRIBE_WRONG_TYPE)
  auto s3 = room.subscribe<"chat.message">([](const Typing&, const forrealtime::Event&) {});
#elif defined(CASE_HISTORY_WRONG_NAME)
  auto h2 = room.history<"chat.mesages">();
#elif defined(CASE_SUBSCRIBE_DEFAULT_WRONG_NAME)
  auto s3 = rt.subscribe<"chat.typin">([](const Typing&) {});
#endif
}
