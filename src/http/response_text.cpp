// The response as bytes; see response_text.hpp.
#include "http/response_text.hpp"

#include <charconv>

namespace forrealtime::gateway {

bool plain_response(const HttpResponse& res) {
  return !res.chunked();
}

void append_head(const HttpResponse& res, std::string& out) {
  // "HTTP/X.Y ### <reason>\r\n", as basic_fields::writer builds it for a response.
  unsigned version = res.version();
  unsigned code = res.result_int();
  char start[13] = {'H',
                    'T',
                    'T',
                    'P',
                    '/',
                    static_cast<char>('0' + version / 10),
                    '.',
                    static_cast<char>('0' + version % 10),
                    ' ',
                    static_cast<char>('0' + code / 100),
                    static_cast<char>('0' + (code / 10) % 10),
                    static_cast<char>('0' + code % 10),
                    ' '};
  auto reason = res.reason();
  std::size_t size = sizeof start + reason.size() + 4;
  for (const auto& f : res) size += f.name_string().size() + f.value().size() + 4;
  out.reserve(out.size() + size);
  out.append(start, sizeof start);
  out.append(reason.data(), reason.size());
  out.append("\r\n", 2);
  for (const auto& f : res) {
    auto name = f.name_string();
    auto value = f.value();
    out.append(name.data(), name.size());
    out.append(": ", 2);
    out.append(value.data(), value.size());
    out.append("\r\n", 2);
  }
  out.append("\r\n", 2);
}

namespace {
constexpr std::string_view kEmptyLength = "Content-Length: 0\r\n\r\n";
}

std::optional<std::string> head_prefix(const HttpResponse& probe) {
  std::string head;
  append_head(probe, head);
  if (!head.ends_with(kEmptyLength)) return std::nullopt;
  head.resize(head.size() - kEmptyLength.size());
  return head;
}

void append_head_from_prefix(std::string_view prefix, std::size_t body_size, std::string& out) {
  char digits[24];
  auto r = std::to_chars(digits, digits + sizeof digits, body_size);
  out.reserve(out.size() + prefix.size() + 20 + (r.ptr - digits));
  out.append(prefix);
  out.append("Content-Length: ");
  out.append(digits, r.ptr);
  out.append("\r\n\r\n");
}

}  // namespace forrealtime::gateway
