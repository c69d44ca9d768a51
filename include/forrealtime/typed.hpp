// Typed events checked at compile time. A schema is declared once, two levels deep,
// namespace -> event -> payload type:
//
//   struct Message { std::string text; std::string user; std::optional<std::string> reply_to; };
//   BOOST_DESCRIBE_STRUCT(Message, (), (text, user, reply_to))
//   struct Typing { std::string user; };
//   BOOST_DESCRIBE_STRUCT(Typing, (), (user))
//
//   using Events = forrealtime::schema<
//       forrealtime::ns<"chat", forrealtime::event<"message", Message>,
//                               forrealtime::event<"typing", Typing>>,
//       forrealtime::ns<"notification", forrealtime::event<"alert", std::string>>>;
//
//   forrealtime::TypedRealtime<Events> rt;                  // JSON input checked against Events
//   rt.emit<"chat.message">({.text = "hi", .user = "ann"}); // on channel "default"
//   rt.channel("room").emit<"chat.message">(Message{...});
//   rt.emit<"chat.mesage">(...);                            // does not compile: not in the schema
//   rt.emit<"chat.typing">(Message{...});                   // does not compile: wrong payload
//   auto sub = rt.channel("room").subscribe<"chat.message">(
//       [](const Message& m, const forrealtime::Event& e) { ... });
//
//   using E = forrealtime::events_of<decltype(rt)>;         // the schema, for other templates
//   forrealtime::payload_t<E, "chat.message">               // Message
//   forrealtime::json_schema_file<Events>()                 // the two-level JSON Schema file
//
// Payload types: described structs (BOOST_DESCRIBE_STRUCT), described enums (as their names),
// std::string, bool, integers, floating point, std::vector, std::optional and
// std::map<std::string, T> of those. A struct member that is an std::optional is not required
// and is left out of the JSON when empty (the TypeScript `b?: U`).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/describe/enum_from_string.hpp>
#include <boost/describe/enum_to_string.hpp>
#include <boost/describe/enumerators.hpp>
#include <boost/describe/members.hpp>
#include <boost/json/value.hpp>
#include <boost/mp11/algorithm.hpp>

#include "forrealtime/realtime.hpp"
#include "forrealtime/schema.hpp"

namespace forrealtime {

// --- names as template arguments -----------------------------------------------------------------

/** A string literal usable as a template argument: `emit<"chat.message">`. */
template <std::size_t N>
struct fixed_string {
  char chars[N]{};
  constexpr fixed_string(const char (&s)[N]) { std::copy_n(s, N, chars); }
  constexpr std::string_view view() const { return {chars, N - 1}; }
  constexpr operator std::string_view() const { return view(); }
};

namespace detail {

constexpr bool valid_part(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c == '.' || c == ' ' || static_cast<unsigned char>(c) < 0x20) return false;
  return true;
}

constexpr bool full_name_is(std::string_view full, std::string_view ns, std::string_view ev) {
  return full.size() == ns.size() + 1 + ev.size() && full.substr(0, ns.size()) == ns &&
         full[ns.size()] == '.' && full.substr(ns.size() + 1) == ev;
}

template <std::size_t N>
constexpr bool all_distinct(const std::array<std::string_view, N>& names) {
  for (std::size_t i = 0; i < N; ++i)
    for (std::size_t j = i + 1; j < N; ++j)
      if (names[i] == names[j]) return false;
  return true;
}

/** The payload type of a name that is not in the schema. */
struct not_in_schema {};

template <class Default, class... Cases>
struct first_match {
  using type = Default;
};
template <class Default, class Case, class... Rest>
struct first_match<Default, Case, Rest...> {
  using type = std::conditional_t<Case::value, typename Case::type,
                                  typename first_match<Default, Rest...>::type>;
};
template <bool B, class T>
struct when {
  static constexpr bool value = B;
  using type = T;
};

}  // namespace detail

// --- the schema ----------------------------------------------------------------------------------

/** One event of a namespace: its name (without the namespace) and its payload type. */
template <fixed_string Name, class Payload>
struct event {
  static_assert(detail::valid_part(Name.view()),
                "forrealtime: an event name must be non-empty, without dots, spaces or control "
                "characters (the namespace comes from ns<...>)");
  static constexpr std::string_view name = Name.view();
  using payload = Payload;
};

/** A namespace: its name and its events. */
template <fixed_string Name, class... Events>
struct ns {
  static_assert(detail::valid_part(Name.view()),
                "forrealtime: a namespace name must be non-empty, without dots, spaces or "
                "control characters");
  static_assert(sizeof...(Events) > 0, "forrealtime: a namespace needs at least one event");
  static_assert(detail::all_distinct(std::array<std::string_view, sizeof...(Events)>{
                    Events::name...}),
                "forrealtime: an event name appears twice in one namespace");
  static constexpr std::string_view name = Name.view();
  static constexpr std::size_t size = sizeof...(Events);

  template <fixed_string Full>
  static constexpr bool contains = (detail::full_name_is(Full.view(), name, Events::name) || ...);

  template <fixed_string Full>
  using payload = typename detail::first_match<
      detail::not_in_schema, detail::when<detail::full_name_is(Full.view(), name, Events::name),
                                          typename Events::payload>...>::type;

  /** Calls `f.template operator()<Event>(full_name)` for each event. */
  template <class F>
  static void for_each(F&& f) {
    (f.template operator()<Events>(std::string(name) + "." + std::string(Events::name)), ...);
  }
};

/** The whole schema: namespaces of events. */
template <class... Namespaces>
struct schema {
  static_assert(sizeof...(Namespaces) > 0, "forrealtime: a schema needs at least one namespace");
  static_assert(detail::all_distinct(std::array<std::string_view, sizeof...(Namespaces)>{
                    Namespaces::name...}),
                "forrealtime: a namespace appears twice in the schema");

  /** True when `Full` ("namespace.event") is in the schema. */
  template <fixed_string Full>
  static constexpr bool contains = (Namespaces::template contains<Full> || ...);

  template <fixed_string Full>
  using payload = typename detail::first_match<
      detail::not_in_schema, detail::when<Namespaces::template contains<Full>,
                                          typename Namespaces::template payload<Full>>...>::type;

  /** Calls `f.template operator()<Event>(std::string full_name)` for each event, in order. */
  template <class F>
  static void for_each(F&& f) {
    (Namespaces::for_each(f), ...);
  }

  /** The number of events. */
  static constexpr std::size_t size = (Namespaces::size + ...);
};

/** The payload type of event `Full` of schema `S`; `detail::not_in_schema` when there is none. */
template <class S, fixed_string Full>
using payload_t = typename S::template payload<Full>;

// --- payload <-> JSON, and the JSON Schema of a payload type ------------------------------------

namespace detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};
template <class T>
struct is_string_map : std::false_type {};
template <class T, class C, class A>
struct is_string_map<std::map<std::string, T, C, A>> : std::true_type {};
template <class T, class H, class E, class A>
struct is_string_map<std::unordered_map<std::string, T, H, E, A>> : std::true_type {};

template <class T>
constexpr bool is_described_struct =
    std::is_class_v<T>&& boost::describe::has_describe_members<T>::value;
template <class T>
constexpr bool is_described_enum =
    std::is_enum_v<T>&& boost::describe::has_describe_enumerators<T>::value;

template <class T>
constexpr bool is_payload_leaf =
    std::is_same_v<T, std::string> || std::is_same_v<T, bool> || std::is_integral_v<T> ||
    std::is_floating_point_v<T> || is_described_enum<T>;

template <class T>
struct is_payload_type;

template <class T>
constexpr bool is_payload = is_payload_type<T>::value;

template <class T>
struct is_payload_type : std::bool_constant<is_payload_leaf<T> || is_described_struct<T>> {};
template <class T>
struct is_payload_type<std::optional<T>> : is_payload_type<T> {};
template <class T, class A>
struct is_payload_type<std::vector<T, A>> : is_payload_type<T> {};
template <class T, class C, class A>
struct is_payload_type<std::map<std::string, T, C, A>> : is_payload_type<T> {};
template <class T, class H, class E, class A>
struct is_payload_type<std::unordered_map<std::string, T, H, E, A>> : is_payload_type<T> {};

template <class T>
using members_of = boost::describe::describe_members<T, boost::describe::mod_public |
                                                            boost::describe::mod_inherited>;

template <class T>
void require_payload() {
  static_assert(is_payload<T>,
                "forrealtime: this type cannot be a payload (or a member of one): use a struct "
                "described with BOOST_DESCRIBE_STRUCT, a described enum, std::string, bool, a "
                "number, or std::vector / std::optional / std::map<std::string, T> of those");
}

}  // namespace detail

/** The JSON Schema (draft 7) of payload type `T`. */
template <class T>
boost::json::value json_schema_of() {
  detail::require_payload<T>();
  namespace json = boost::json;
  if constexpr (std::is_same_v<T, std::string>) {
    return {{"type", "string"}};
  } else if constexpr (std::is_same_v<T, bool>) {
    return {{"type", "boolean"}};
  } else if constexpr (detail::is_described_enum<T>) {
    json::array names;
    boost::mp11::mp_for_each<boost::describe::describe_enumerators<T>>(
        [&](auto d) { names.emplace_back(d.name); });
    return {{"type", "string"}, {"enum", std::move(names)}};
  } else if constexpr (std::is_integral_v<T>) {
    json::object o{{"type", "integer"}};
    if constexpr (std::is_unsigned_v<T>) o["minimum"] = 0;
    if constexpr (sizeof(T) < 8) {
      o["minimum"] = static_cast<std::int64_t>(std::numeric_limits<T>::min());
      o["maximum"] = static_cast<std::int64_t>(std::numeric_limits<T>::max());
    }
    return o;
  } else if constexpr (std::is_floating_point_v<T>) {
    return {{"type", "number"}};
  } else if constexpr (detail::is_optional<T>::value) {
    return {{"anyOf", json::array{json_schema_of<typename T::value_type>(), {{"type", "null"}}}}};
  } else if constexpr (detail::is_vector<T>::value) {
    return {{"type", "array"}, {"items", json_schema_of<typename T::value_type>()}};
  } else if constexpr (detail::is_string_map<T>::value) {
    return {{"type", "object"},
            {"additionalProperties", json_schema_of<typename T::mapped_type>()}};
  } else {
    json::object props;
    json::array required;
    boost::mp11::mp_for_each<detail::members_of<T>>([&](auto d) {
      using M = std::remove_cvref_t<decltype(std::declval<T&>().*d.pointer)>;
      if constexpr (detail::is_optional<M>::value) {
        props[d.name] = json_schema_of<typename M::value_type>();
      } else {
        props[d.name] = json_schema_of<M>();
        required.emplace_back(d.name);
      }
    });
    json::object o{{"type", "object"}, {"properties", std::move(props)}};
    if (!required.empty()) o["required"] = std::move(required);
    return o;
  }
}

/** The JSON of a payload (empty optional struct members are left out). */
template <class T>
boost::json::value to_json(const T& v) {
  detail::require_payload<T>();
  namespace json = boost::json;
  if constexpr (std::is_same_v<T, std::string>) {
    return json::string(v);
  } else if constexpr (detail::is_described_enum<T>) {
    return json::string(boost::describe::enum_to_string(v, ""));
  } else if constexpr (std::is_same_v<T, bool> || std::is_arithmetic_v<T>) {
    return json::value(v);
  } else if constexpr (detail::is_optional<T>::value) {
    return v ? to_json(*v) : json::value(nullptr);
  } else if constexpr (detail::is_vector<T>::value) {
    json::array a;
    a.reserve(v.size());
    for (const auto& x : v) a.push_back(to_json(x));
    return a;
  } else if constexpr (detail::is_string_map<T>::value) {
    json::object o;
    for (const auto& [k, x] : v) o[k] = to_json(x);
    return o;
  } else {
    json::object o;
    boost::mp11::mp_for_each<detail::members_of<T>>([&](auto d) {
      const auto& m = v.*d.pointer;
      using M = std::remove_cvref_t<decltype(m)>;
      if constexpr (detail::is_optional<M>::value) {
        if (m) o[d.name] = to_json(*m);
      } else {
        o[d.name] = to_json(m);
      }
    });
    return o;
  }
}

/** Reads a payload from JSON. False when it does not convert; then `why` says where and what
 *  ("/text: expected string"). Extra object members are ignored; an absent optional member is
 *  empty. (Boost.JSON 1.81's own value_to demands exactly the described members.) */
template <class T>
bool from_json(const boost::json::value& v, T& out, std::string& why) {
  detail::require_payload<T>();
  auto wrong = [&](const char* expected) {
    why = std::string(": expected ") + expected;
    return false;
  };
  if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) return wrong("string");
    out.assign(v.get_string().data(), v.get_string().size());
    return true;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_bool()) return wrong("boolean");
    out = v.get_bool();
    return true;
  } else if constexpr (detail::is_described_enum<T>) {
    if (!v.is_string() ||
        !boost::describe::enum_from_string(std::string(v.get_string()).c_str(), out))
      return wrong("one of the enum's names");
    return true;
  } else if constexpr (std::is_integral_v<T>) {
    boost::system::error_code ec;
    auto n = v.is_number() ? v.to_number<T>(ec) : T{};
    if (!v.is_number() || ec) return wrong("an integer in range");
    out = n;
    return true;
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number()) return wrong("number");
    out = v.to_number<T>();
    return true;
  } else if constexpr (detail::is_optional<T>::value) {
    if (v.is_null()) {
      out.reset();
      return true;
    }
    typename T::value_type x{};
    if (!from_json(v, x, why)) return false;
    out = std::move(x);
    return true;
  } else if constexpr (detail::is_vector<T>::value) {
    if (!v.is_array()) return wrong("array");
    out.clear();
    out.reserve(v.get_array().size());
    std::size_t i = 0;
    for (const auto& x : v.get_array()) {
      typename T::value_type item{};
      if (!from_json(x, item, why)) {
        why = "/" + std::to_string(i) + why;
        return false;
      }
      out.push_back(std::move(item));
      ++i;
    }
    return true;
  } else if constexpr (detail::is_string_map<T>::value) {
    if (!v.is_object()) return wrong("object");
    out.clear();
    for (const auto& [k, x] : v.get_object()) {
      typename T::mapped_type item{};
      if (!from_json(x, item, why)) {
        why = "/" + std::string(k) + why;
        return false;
      }
      out.emplace(std::string(k), std::move(item));
    }
    return true;
  } else {
    if (!v.is_object()) return wrong("object");
    const auto& o = v.get_object();
    bool ok = true;
    boost::mp11::mp_for_each<detail::members_of<T>>([&](auto d) {
      if (!ok) return;
      auto& m = out.*d.pointer;
      using M = std::remove_cvref_t<decltype(m)>;
      const auto* x = o.if_contains(d.name);
      if (!x) {
        if constexpr (detail::is_optional<M>::value) {
          m.reset();
        } else {
          why = "/" + std::string(d.name) + ": required member is missing";
          ok = false;
        }
        return;
      }
      if (!from_json(*x, m, why)) {
        why = "/" + std::string(d.name) + why;
        ok = false;
      }
    });
    return ok;
  }
}

/** The schema file of `S`: `{namespace: {event: JSON Schema}}`, what `forrealtime serve
 *  --schema` and `forrealtime codegen ts --schema` read. */
template <class S>
boost::json::value json_schema_file() {
  boost::json::object file;
  S::for_each([&]<class E>(const std::string& full) {
    auto dot = full.find('.');
    auto& events = file[full.substr(0, dot)];
    if (!events.is_object()) events = boost::json::object();
    events.get_object()[E::name] = json_schema_of<typename E::payload>();
  });
  return file;
}

/** An `Options::schema` for the JSON that reaches a typed Realtime: `strict` refuses names
 *  outside `S`, otherwise they pass unchecked. The validators are compiled once per process. */
template <class S>
Schema make_schema(bool strict = true) {
  if (strict) {
    static const auto set = JsonSchemaSet::compile(json_schema_file<S>(), true);
    return make_schema(set);
  }
  static const auto loose = JsonSchemaSet::compile(json_schema_file<S>(), false);
  return make_schema(loose);
}

namespace detail {
/** Logs a payload of a typed subscription that does not convert (it is then skipped); to
 *  spdlog's default logger when `log` is null. */
void log_undecodable(spdlog::logger* log, const Event& e, const std::string& why);

/** `P` may be passed where `T` is declared: the same type, or for a string or number payload
 *  anything that converts without narrowing (`emit<"ns.text">("hi")`). */
template <class T, class P>
constexpr bool accepts =
    std::is_same_v<std::remove_cvref_t<P>, T> ||
    ((!std::is_class_v<T> ||
      std::is_same_v<T, std::string>)&&!std::is_class_v<std::remove_cvref_t<P>> &&
     requires(const P& p) { T{p}; });

template <class S, fixed_string Name, class P>
constexpr bool emit_ok = S::template contains<Name>&& accepts<payload_t<S, Name>, P>;

template <class T, class P>
decltype(auto) as_payload(const P& p) {
  if constexpr (std::is_same_v<std::remove_cvref_t<P>, T>)
    return (p);
  else
    return T{p};
}

template <class S, fixed_string Name, class P>
constexpr void check_emit_types() {
  static_assert(S::template contains<Name>,
                "forrealtime: emit<\"namespace.event\">: this event name is not in the schema "
                "(see the name in `emit<...>` below)");
  using T = payload_t<S, Name>;
  static_assert(!S::template contains<Name> || accepts<T, P>,
                "forrealtime: emit<\"namespace.event\">(payload): the payload's type is not the "
                "one the schema declares for this event");
}

template <class S, fixed_string Name, class F>
constexpr void check_subscribe_types() {
  static_assert(S::template contains<Name>,
                "forrealtime: subscribe<\"namespace.event\">: this event name is not in the "
                "schema (see the name in `subscribe<...>` below)");
  using T = payload_t<S, Name>;
  static_assert(!S::template contains<Name> || std::is_invocable_v<F&, const T&, const Event&> ||
                    std::is_invocable_v<F&, const T&>,
                "forrealtime: subscribe<\"namespace.event\">(callback): the callback must take "
                "(const Payload&, const forrealtime::Event&) or (const Payload&), with the "
                "payload type the schema declares for this event");
}
}  // namespace detail

// --- typed Realtime and Channel ------------------------------------------------------------------

/** A stored event and its payload as the schema's type. */
template <class T>
struct TypedEvent {
  Event event;
  T data;
};

/** A Channel whose `emit<"ns.event">` and `subscribe<"ns.event">` are checked against `S` at
 *  compile time. The untyped members stay (their JSON is checked at run time). */
template <class S>
class TypedChannel : public Channel {
 public:
  using events = S;
  /** `log`: where undecodable payloads are reported (the Realtime's logger; null: spdlog's
   *  default logger). */
  explicit TypedChannel(Channel c, spdlog::logger* log = nullptr)
      : Channel(std::move(c)), log_(log) {}

  using Channel::async_emit;
  using Channel::emit;
  using Channel::subscribe;

  /** Emits a typed payload and waits for the store. `emit<"chat.message">({.text = "hi"})`. */
  template <fixed_string Name, class P = payload_t<S, Name>>
  Result<StreamId> emit(const P& payload) const {
    detail::check_emit_types<S, Name, P>();
    if constexpr (detail::emit_ok<S, Name, P>)
      return Channel::emit(Name.view(), to_json(detail::as_payload<payload_t<S, Name>>(payload)));
    else
      return make_error_code(errc::unknown_event);
  }

  /** The completion-token form: `co_await room.async_emit<"chat.message">({...},
   *  asio::use_awaitable)`, `asio::use_future`, or a handler `(error_code, StreamId)` bound to
   *  an executor; completes on that executor (Channel::async_emit), never inside the call. */
  template <fixed_string Name, class P = payload_t<S, Name>, class Token>
  requires(!detail::callback_form<Token, Result<StreamId>>) auto async_emit(const P& payload,
                                                                            Token&& token) const {
    detail::check_emit_types<S, Name, P>();
    if constexpr (detail::emit_ok<S, Name, P>)
      return Channel::async_emit(Name.view(),
                                 to_json(detail::as_payload<payload_t<S, Name>>(payload)),
                                 std::forward<Token>(token));
    else  // not reached: check_emit_types has already stopped the build with its message
      return Channel::async_emit(Name.view(), boost::json::value{}, std::forward<Token>(token));
  }
  /** The callback form: `handler` runs on a store thread, possibly before this returns. */
  template <fixed_string Name, class P = payload_t<S, Name>>
  void async_emit(const P& payload, std::function<void(Result<StreamId>)> handler) const {
    detail::check_emit_types<S, Name, P>();
    if constexpr (detail::emit_ok<S, Name, P>)
      Channel::async_emit(Name.view(), to_json(detail::as_payload<payload_t<S, Name>>(payload)),
                          std::move(handler));
  }

  using Channel::history;

  /** The stored `Name` events of this channel, oldest first, each with its typed payload.
   *  `query.limit` and `query.last` count every stored event (other names are read, then left
   *  out); a payload that does not convert is logged and left out. */
  template <fixed_string Name>
  Result<std::vector<TypedEvent<payload_t<S, Name>>>> history(HistoryQuery query = {}) const {
    static_assert(S::template contains<Name>,
                  "forrealtime: history<\"namespace.event\">: this event name is not in the "
                  "schema (see the name in `history<...>` below)");
    using T = payload_t<S, Name>;
    if constexpr (!S::template contains<Name>) {
      return make_error_code(errc::unknown_event);
    } else {
      auto all = Channel::history(query);
      if (!all) return all.error();
      std::vector<TypedEvent<T>> out;
      for (auto& e : *all) {
        if (e.event != Name.view()) continue;
        TypedEvent<T> t{std::move(e), T{}};
        std::string why;
        if (!from_json(t.event.data, t.data, why)) {
          detail::log_undecodable(log_, t.event, why);
          continue;
        }
        out.push_back(std::move(t));
      }
      return out;
    }
  }

  /** Calls `on_data(payload, event)` (or `on_data(payload)`) for each `Name` event on this
   *  channel, on an internal thread, in id order. A payload that does not convert to the
   *  declared type (a peer that wrote bad JSON) is logged and skipped. */
  template <fixed_string Name, class F>
  Subscription subscribe(F on_data, std::optional<HistoryQuery> history = std::nullopt) const {
    detail::check_subscribe_types<S, Name, F>();
    if constexpr (S::template contains<Name>) {
      using T = payload_t<S, Name>;
      SubscribeOptions o;
      o.events = {std::string(Name.view())};
      o.history = std::move(history);
      o.on_data = [f = std::move(on_data), log = log_](const Event& e) mutable {
        T payload{};
        std::string why;
        if (!from_json(e.data, payload, why)) return detail::log_undecodable(log, e, why);
        if constexpr (std::is_invocable_v<F&, const T&, const Event&>)
          f(std::as_const(payload), e);
        else
          f(std::as_const(payload));
      };
      return Channel::subscribe(std::move(o));
    } else {
      return {};
    }
  }

 private:
  spdlog::logger* log_ = nullptr;
};

/** A Realtime whose events are those of `S`: typed emits and subscribes are checked at compile
 *  time, and every JSON payload (gateway, plugins, untyped emits) against the JSON Schema derived
 *  from `S` at run time, unknown names refused. Pass `Options::schema` yourself to check JSON
 *  differently. */
template <class S>
class TypedRealtime : public Realtime {
 public:
  /** The event map, for other code: `forrealtime::events_of<decltype(rt)>`. */
  using events = S;

  explicit TypedRealtime(Options options = {}) : Realtime(with_schema(std::move(options))) {}

  TypedChannel<S> channel(std::string name) const {
    return TypedChannel<S>(Realtime::channel(std::move(name)), &logger());
  }

  using Realtime::emit;
  /** Emits on channel `default`. */
  template <fixed_string Name, class P = payload_t<S, Name>>
  Result<StreamId> emit(const P& payload) const {
    detail::check_emit_types<S, Name, P>();
    if constexpr (detail::emit_ok<S, Name, P>)
      return channel("default").template emit<Name, P>(payload);
    else
      return make_error_code(errc::unknown_event);
  }

  /** Typed subscribe on channel `default` (see TypedChannel::subscribe). */
  template <fixed_string Name, class F>
  Subscription subscribe(F on_data, std::optional<HistoryQuery> history = std::nullopt) const {
    detail::check_subscribe_types<S, Name, F>();
    if constexpr (S::template contains<Name>)
      return channel("default").template subscribe<Name>(std::move(on_data), std::move(history));
    else
      return {};
  }

 private:
  static Options with_schema(Options o) {
    if (!o.schema.check && !o.schema.check_with_reason) o.schema = make_schema<S>();
    return o;
  }
};

/** The event map of a Realtime type (or of a channel, or a schema itself). */
template <class R>
using events_of = typename std::remove_cvref_t<R>::events;

}  // namespace forrealtime
