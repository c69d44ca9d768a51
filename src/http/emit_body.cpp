// Parsing of the emit body; see emit_body.hpp.
#include "http/emit_body.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>

#include <boost/container/small_vector.hpp>
#include <boost/json/basic_parser_impl.hpp>

#include "core/events.hpp"
#include "core/json_text.hpp"

namespace forrealtime::gateway {
namespace {

// The handler of boost::json::basic_parser behind encode_emit_body: the top-level object's
// fields are picked up as they come, and the value of `data` is written as core::write_json
// writes what core::parse_json builds (the same parser, options and number conversion: see
// json_text.cpp's Builder). Anything unusual stops the parse (`unusual`), and the caller falls
// back to parse_emit_body. Containers are counted by `depth` (the body's object is depth 1).
struct EmitEncoder {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
  static constexpr std::size_t max_keys = 32;  // per object in data: duplicates are looked for

  enum class Field { none, channel, event, data, key, other };
  enum : unsigned { seen_channel = 1, seen_event = 2, seen_data = 4, seen_key = 8 };
  struct Open {
    bool object;
    bool first;
    std::size_t keys_begin;  // this object's keys in `keys`
  };
  struct Key {
    std::size_t at, size;  // the written key in `out->data`
  };

  EncodedEmit* out = nullptr;
  bool unusual = false;
  int depth = 0;
  Field field = Field::none;  // the body's field whose value is being read
  unsigned seen = 0;
  bool has_key = false;
  boost::container::small_vector<Open, 8> open;  // containers open inside data
  boost::container::small_vector<Key, 16> keys;  // keys of the objects open inside data
  std::string part;                              // a string or key given in parts
  std::string number;                            // a number's text given in parts

  using ec_t = boost::system::error_code;
  using sv = boost::json::string_view;

  bool stop(ec_t& ec) {
    unusual = true;
    ec = boost::json::error::syntax;
    return false;
  }
  bool writing() const { return field == Field::data; }
  // Before a value inside data: the comma between an array's elements.
  void sep() {
    if (open.empty() || open.back().object) return;
    if (!open.back().first) out->data.push_back(',');
    open.back().first = false;
  }
  std::string_view whole(sv s) {
    if (part.empty()) return {s.data(), s.size()};
    part.append(s.data(), s.size());
    return part;
  }
  // A scalar other than a string: written when it belongs to data.
  template <class Write>
  bool scalar(ec_t& ec, Write write) {
    if (depth == 0) return stop(ec);
    if (writing()) {
      sep();
      write();
      return true;
    }
    if (depth == 1 && field != Field::other) return stop(ec);  // channel, event, key: strings
    return true;
  }
  bool begin(bool object, ec_t& ec) {
    if (depth == 0) {
      if (!object) return stop(ec);  // a batch
    } else if (writing()) {
      sep();
      out->data.push_back(object ? '{' : '[');
      open.push_back(Open{object, true, keys.size()});
    } else if (depth == 1 && field != Field::other) {
      return stop(ec);
    }
    ++depth;
    return true;
  }
  void end(bool object) {
    if (--depth == 0 || !writing()) return;
    out->data.push_back(object ? '}' : ']');
    keys.resize(open.back().keys_begin);
    open.pop_back();
  }

  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_object_begin(ec_t& ec) { return begin(true, ec); }
  bool on_object_end(std::size_t, ec_t&) {
    end(true);
    return true;
  }
  bool on_array_begin(ec_t& ec) { return begin(false, ec); }
  bool on_array_end(std::size_t, ec_t&) {
    end(false);
    return true;
  }
  bool on_key_part(sv s, std::size_t, ec_t&) {
    part.append(s.data(), s.size());
    return true;
  }
  bool on_key(sv s, std::size_t, ec_t& ec) {
    auto k = whole(s);
    if (depth == 1) {
      unsigned bit = 0;
      if (k == "channel") {
        field = Field::channel;
        bit = seen_channel;
      } else if (k == "event") {
        field = Field::event;
        bit = seen_event;
      } else if (k == "data") {
        field = Field::data;
        bit = seen_data;
      } else if (k == "idempotency_key") {
        field = Field::key;
        bit = seen_key;
      } else {
        field = Field::other;
      }
      if (seen & bit) return stop(ec);  // a duplicate: the last one wins there
      seen |= bit;
    } else if (writing()) {
      auto& o = open.back();
      if (!o.first) out->data.push_back(',');
      o.first = false;
      auto at = out->data.size();
      core::write_json_string(k, out->data);
      auto size = out->data.size() - at;
      if (keys.size() - o.keys_begin >= max_keys) return stop(ec);
      for (auto i = o.keys_begin; i < keys.size(); ++i)
        if (keys[i].size == size &&
            std::memcmp(out->data.data() + keys[i].at, out->data.data() + at, size) == 0)
          return stop(ec);  // a duplicate key: the first's place, the last's value
      keys.push_back(Key{at, size});
      out->data.push_back(':');
    }
    part.clear();
    return true;
  }
  bool on_string_part(sv s, std::size_t, ec_t&) {
    part.append(s.data(), s.size());
    return true;
  }
  bool on_string(sv s, std::size_t, ec_t& ec) {
    if (depth == 0) return stop(ec);
    auto v = whole(s);
    if (writing()) {
      sep();
      core::write_json_string(v, out->data);
    } else if (depth == 1) {
      if (field == Field::channel)
        out->channel.assign(v);
      else if (field == Field::event)
        out->event.assign(v);
      else if (field == Field::key)
        out->idempotency_key.assign(v), has_key = true;
    }
    part.clear();
    return true;
  }
  bool on_number_part(sv s, ec_t&) {
    number.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, sv, ec_t& ec) {
    number.clear();
    return scalar(ec, [&] { core::write_json(boost::json::value(i), out->data); });
  }
  bool on_uint64(std::uint64_t u, sv, ec_t& ec) {
    number.clear();
    return scalar(ec, [&] { core::write_json(boost::json::value(u), out->data); });
  }
  bool on_double(double d, sv s, ec_t& ec) {
    // As json_text.cpp's Builder: correctly rounded from the text.
    number.append(s.data(), s.size());
    double exact = d;
    auto r = std::from_chars(number.data(), number.data() + number.size(), exact);
    if (r.ec == std::errc::result_out_of_range) exact = d;
    number.clear();
    return scalar(ec, [&] { core::write_json_number(exact, out->data); });
  }
  bool on_bool(bool b, ec_t& ec) {
    return scalar(ec, [&] { out->data.append(b ? "true" : "false"); });
  }
  bool on_null(ec_t& ec) {
    return scalar(ec, [&] { out->data.append("null"); });
  }
  bool on_comment_part(sv, ec_t&) { return true; }
  bool on_comment(sv, ec_t&) { return true; }
};

}  // namespace

std::optional<EncodedEmit> encode_emit_body(std::string_view text, std::string_view header_key) {
  // A batch (or anything but an object) goes the general path at once, before any allocation.
  auto first = text.find_first_not_of(" \t\n\r");
  if (first == std::string_view::npos || text[first] != '{') return std::nullopt;
  EncodedEmit out;
  out.data.reserve(text.size());
  boost::json::parse_options opt;
  opt.max_depth = 64;  // as core::parse_json
  boost::json::basic_parser<EmitEncoder> p(opt);
  p.handler().out = &out;
  boost::system::error_code ec;
  auto used = p.write_some(false, text.data(), text.size(), ec);
  if (ec || used != text.size() || !p.done()) return std::nullopt;
  auto& h = p.handler();
  if ((h.seen & EmitEncoder::seen_event) == 0 || (h.seen & EmitEncoder::seen_data) == 0)
    return std::nullopt;
  if (h.has_key) {
    if (check_idempotency_key(out.idempotency_key)) return std::nullopt;
  } else if (!header_key.empty()) {
    out.idempotency_key.assign(header_key);
  }
  return out;
}

std::variant<EmitBody, std::string> parse_emit_body(std::string_view text,
                                                    std::string_view header_key) {
  boost::system::error_code ec;
  auto body = core::parse_json(text, ec);
  if (ec) return "malformed JSON body: " + ec.message();
  EmitBody out;
  out.batch = body.is_array();
  if (out.batch && body.get_array().empty()) return std::string("empty batch");
  auto parse_one = [&](boost::json::value& v, std::size_t index) -> std::optional<std::string> {
    std::string where = out.batch ? "item " + std::to_string(index) + ": " : "";
    if (!v.is_object()) return where + "expected an object {channel?, event, data}";
    auto& o = v.get_object();
    EmitItem item;
    if (auto* c = o.if_contains("channel")) {
      if (!c->is_string()) return where + "channel must be a string";
      item.channel.assign(c->get_string().data(), c->get_string().size());
    }
    auto* e = o.if_contains("event");
    if (!e) return where + "missing event";
    if (!e->is_string()) return where + "event must be a string";
    item.event.assign(e->get_string().data(), e->get_string().size());
    auto* d = o.if_contains("data");
    if (!d) return where + "missing data";
    item.data = std::move(*d);
    if (auto* k = o.if_contains("idempotency_key")) {
      if (!k->is_string()) return where + "idempotency_key must be a string";
      item.idempotency_key.assign(k->get_string().data(), k->get_string().size());
      if (auto why = check_idempotency_key(item.idempotency_key)) return where + *why;
    } else if (!header_key.empty()) {
      item.idempotency_key.assign(header_key);
      if (out.batch) item.idempotency_key.append(":").append(std::to_string(index));
    }
    out.items.push_back(std::move(item));
    return std::nullopt;
  };
  if (out.batch) {
    auto& arr = body.get_array();
    out.items.reserve(arr.size());
    for (std::size_t i = 0; i < arr.size(); ++i)
      if (auto why = parse_one(arr[i], i)) return std::move(*why);
  } else if (auto why = parse_one(body, 0)) {
    return std::move(*why);
  }
  return out;
}

}  // namespace forrealtime::gateway
