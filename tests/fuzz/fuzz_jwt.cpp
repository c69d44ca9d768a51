// Tokens and the strings around them, from untrusted bytes. The first byte picks the part:
//   0: a JWT through parse and verify (HMAC key): never a crash; an accepted token is one whose
//      HMAC really matches; base64url decodes only canonical text (decode, encode: same text).
//   1: pattern \0 channel \0 sub: a pattern without `*` and `{sub}` matches only itself, and a
//      subject is literal (a `*` inside it never matches more than one channel).
//   2: a request target: after redact_target, no `token` parameter keeps a value.
//   3: a forward-auth answer (the next byte picks the status): only a 2xx allows; an allowing
//      answer's ttl is at most a day and its subject is empty or 1-256 bytes without control
//      characters; only an allowing answer can carry the admin flag.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include "auth/forward.hpp"
#include "auth/jwt.hpp"
#include "auth/policy.hpp"
#include "auth/token.hpp"
#include "core/query.hpp"

namespace fa = forrealtime::auth;

namespace {

const std::string kSecret = "fuzz-secret-fuzz-secret-fuzz-secret-0123";

const fa::KeySet& keys() {
  static fa::KeySet k = [] {
    fa::KeySet s;
    s.add_secret(kSecret, nullptr);
    return s;
  }();
  return k;
}

void jwt(std::string_view in) {
  if (auto d = fa::base64url_decode(in); d && fa::base64url_encode(*d) != in) std::abort();
  auto r = fa::verify_jwt(keys(), in, {}, 1'800'000'000);
  if (std::holds_alternative<fa::Credential>(r)) {
    auto parts = fa::parse_jwt(in, nullptr);
    if (!parts || !parts->alg.starts_with("HS")) std::abort();
    const EVP_MD* md = parts->alg == "HS256"   ? EVP_sha256()
                       : parts->alg == "HS384" ? EVP_sha384()
                                               : EVP_sha512();
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(md, kSecret.data(), static_cast<int>(kSecret.size()),
         reinterpret_cast<const unsigned char*>(parts->signing_input.data()),
         parts->signing_input.size(), mac, &len);
    if (parts->signature.size() != len || CRYPTO_memcmp(mac, parts->signature.data(), len))
      std::abort();
  }
}

void pattern(std::string_view in) {
  auto a = in.find('\0');
  if (a == std::string_view::npos) return;
  auto b = in.find('\0', a + 1);
  if (b == std::string_view::npos) return;
  auto p = in.substr(0, a), channel = in.substr(a + 1, b - a - 1), sub = in.substr(b + 1);
  bool m = fa::pattern_matches(p, channel, sub);
  if (p.find('*') == std::string_view::npos && p.find("{sub}") == std::string_view::npos &&
      m != (p == channel))
    std::abort();
  // `{sub}` alone: matches exactly the subject, whatever characters it holds.
  if (!sub.empty() && fa::pattern_matches("{sub}", channel, sub) != (channel == sub)) std::abort();
}

void redact(std::string_view in) {
  auto out = fa::redact_target(in);
  auto q = out.find('?');
  if (q == std::string::npos) return;
  auto query = std::string_view(out).substr(q + 1);
  query = query.substr(0, query.find('#'));
  if (auto form = forrealtime::core::parse_form(query))
    for (auto& [k, v] : *form)
      if (k == "token" && v != "REDACTED") std::abort();
}

void forward_answer(std::string_view in) {
  if (in.empty()) return;
  static constexpr unsigned kStatus[] = {200, 204, 299, 301, 401, 403, 404, 500, 503, 100};
  unsigned status = kStatus[static_cast<unsigned char>(in[0]) % 10];
  auto d = fa::interpret_answer(status, in.substr(1));
  using K = fa::ForwardDecision::Kind;
  bool ok = status >= 200 && status < 300;
  if (d.kind == K::allow && !ok) std::abort();
  if (d.kind != K::allow && d.admin) std::abort();
  if (d.kind == K::unauthenticated && status != 401) std::abort();
  if (d.kind == K::forbidden && status != 403) std::abort();
  if (d.kind == K::allow) {
    if (d.ttl_secs > 86400) std::abort();
    if (d.subject.size() > 256) std::abort();
    for (unsigned char c : d.subject)
      if (c < 0x20 || c == 0x7f) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      jwt(in);
      break;
    case 1:
      pattern(in);
      break;
    case 2:
      redact(in);
      break;
    default:
      forward_answer(in);
  }
  return 0;
}
