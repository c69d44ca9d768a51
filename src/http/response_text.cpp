// The response as bytes; see response_text.hpp.
#include "http/response_text.hpp"

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

}  // namespace forrealtime::gateway
