// A JSON writer that matches JavaScript's JSON.stringify; see json_text.hpp for why.
#include "core/json_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

namespace forrealtime::core {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Integers in [-2^53, 2^53] are exact in a double and print the same in JavaScript.
constexpr std::int64_t kMaxSafe = (std::int64_t{1} << 53);

void write_int(std::int64_t v, std::string& out) {
  if (v > kMaxSafe || v < -kMaxSafe) return write_json_number(static_cast<double>(v), out);
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void write_uint(std::uint64_t v, std::string& out) {
  if (v > static_cast<std::uint64_t>(kMaxSafe))
    return write_json_number(static_cast<double>(v), out);
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Builds a value like boost::json::parser does, but converts doubles from their text with
// std::from_chars, which rounds correctly.
struct Builder {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  boost::json::value_stack st;
  std::string number;

  using ec_t = boost::system::error_code;
  using sv = boost::json::string_view;
  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_object_begin(ec_t&) { return true; }
  bool on_object_end(std::size_t n, ec_t&) {
    st.push_object(n);
    return true;
  }
  bool on_array_begin(ec_t&) { return true; }
  bool on_array_end(std::size_t n, ec_t&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(sv s, std::size_t, ec_t&) {
    st.push_chars(s);
    return true;
  }
  bool on_key(sv s, std::size_t, ec_t&) {
    st.push_key(s);
    return true;
  }
  bool on_string_part(sv s, std::size_t, ec_t&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(sv s, std::size_t, ec_t&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(sv s, ec_t&) {
    number.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, sv, ec_t&) {
    number.clear();
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, sv, ec_t&) {
    number.clear();
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, sv s, ec_t&) {
    number.append(s.data(), s.size());
    double exact = d;
    auto r = std::from_chars(number.data(), number.data() + number.size(), exact);
    if (r.ec == std::errc::result_out_of_range) exact = d;  // +-inf or 0, as Boost gives
    number.clear();
    st.push_double(exact);
    return true;
  }
  bool on_bool(bool b, ec_t&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(ec_t&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(sv, ec_t&) { return true; }
  bool on_comment(sv, ec_t&) { return true; }
};

}  // namespace

boost::json::value parse_json(std::string_view text, boost::system::error_code& ec) {
  boost::json::parse_options opt;
  opt.max_depth = 64;
  boost::json::basic_parser<Builder> p(opt);
  p.handler().st.reset();
  auto used = p.write_some(false, text.data(), text.size(), ec);
  if (ec) return nullptr;
  if (used != text.size()) {
    ec = boost::json::error::extra_data;
    return nullptr;
  }
  if (!p.done()) {
    ec = boost::json::error::incomplete;
    return nullptr;
  }
  return p.handler().st.release();
}

void write_json_string(std::string_view s, std::string& out) {
  out.push_back('"');
  std::size_t run = 0;  // start of the pending run of characters that need no escape
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void write_json_number(double d, std::string& out) {
  if (!std::isfinite(d)) {
    out.append("null");
    return;
  }
  if (d == 0) {  // also -0, which JavaScript prints as 0
    out.push_back('0');
    return;
  }
  // Shortest round-trip digits in scientific form: [-]d[.ddd]e[+-]x
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view sci(buf, r.ptr - buf);
  bool negative = sci.front() == '-';
  if (negative) sci.remove_prefix(1);
  auto e = sci.find('e');
  std::string digits;
  digits.reserve(20);
  for (char c : sci.substr(0, e))
    if (c != '.') digits.push_back(c);
  int exp10 = std::atoi(std::string(sci.substr(e + 1)).c_str());
  // JavaScript's Number::toString: k digits, n = exp10 + 1 (ECMA-262 6.1.6.1.20).
  int k = static_cast<int>(digits.size());
  int n = exp10 + 1;
  if (negative) out.push_back('-');
  if (k <= n && n <= 21) {
    out.append(digits);
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, n);
    out.push_back('.');
    out.append(digits, n);
  } else if (-6 < n && n <= 0) {
    out.append("0.");
    out.append(static_cast<std::size_t>(-n), '0');
    out.append(digits);
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out.push_back('e');
    out.push_back(n - 1 >= 0 ? '+' : '-');
    out.append(std::to_string(std::abs(n - 1)));
  }
}

void write_json(const boost::json::value& v, std::string& out) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out.append("null");
      break;
    case boost::json::kind::bool_:
      out.append(v.get_bool() ? "true" : "false");
      break;
    case boost::json::kind::int64:
      write_int(v.get_int64(), out);
      break;
    case boost::json::kind::uint64:
      write_uint(v.get_uint64(), out);
      break;
    case boost::json::kind::double_:
      write_json_number(v.get_double(), out);
      break;
    case boost::json::kind::string:
      write_json_string(v.get_string(), out);
      break;
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        write_json(e, out);
      }
      out.push_back(']');
      break;
    }
    case boost::json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        write_json_string(kv.key(), out);
        out.push_back(':');
        write_json(kv.value(), out);
      }
      out.push_back('}');
      break;
    }
  }
}

std::string to_json(const boost::json::value& v) {
  std::string out;
  write_json(v, out);
  return out;
}

}  // namespace forrealtime::core
