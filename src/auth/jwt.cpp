// Parsing and verifying compact JWS tokens; see jwt.hpp. Everything here reads untrusted bytes:
// no exceptions escape, lengths are checked before any copy, and the signature is compared in
// constant time (HMAC) or by libcrypto.
#include <cmath>

#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <boost/json/parse.hpp>

#include "auth/key.hpp"

namespace forrealtime::auth {
namespace {

constexpr std::size_t kMaxToken = 16 * 1024;

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

bool fail(std::string* why, std::string message) {
  if (why) *why = std::move(message);
  return false;
}

std::optional<boost::json::object> parse_object(std::string_view text) {
  boost::system::error_code ec;
  boost::json::parse_options opt;
  opt.max_depth = 32;
  auto v = boost::json::parse(text, ec, {}, opt);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

const EVP_MD* digest_for(std::string_view alg) {
  auto bits = alg.substr(2);
  if (bits == "256") return EVP_sha256();
  if (bits == "384") return EVP_sha384();
  if (bits == "512") return EVP_sha512();
  return nullptr;
}

bool verify_hmac(const KeySet::Key& k, std::string_view alg, std::string_view input,
                 std::string_view sig) {
  const EVP_MD* md = digest_for(alg);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!md || !HMAC(md, k.secret.data(), static_cast<int>(k.secret.size()),
                   reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len))
    return false;
  return sig.size() == len && CRYPTO_memcmp(mac, sig.data(), len) == 0;
}

// ES256/ES384 signatures are r || s, each the curve's size; libcrypto wants DER.
std::optional<std::string> ecdsa_to_der(std::string_view sig, int bits) {
  std::size_t half = bits == 256 ? 32 : 48;
  if (sig.size() != 2 * half) return std::nullopt;
  auto* raw = reinterpret_cast<const unsigned char*>(sig.data());
  BIGNUM* r = BN_bin2bn(raw, static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(raw + half, static_cast<int>(half), nullptr);
  ECDSA_SIG* es = ECDSA_SIG_new();
  if (!r || !s || !es || !ECDSA_SIG_set0(es, r, s)) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(es, &der);
  ECDSA_SIG_free(es);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool verify_pkey(const KeySet::Key& k, std::string_view alg, std::string_view input,
                 std::string_view sig) {
  const EVP_MD* md = nullptr;
  std::string der;
  if (k.kind == KeySet::Key::Kind::rsa) {
    md = digest_for(alg);
  } else if (k.kind == KeySet::Key::Kind::ec) {
    md = digest_for(alg);
    auto d = ecdsa_to_der(sig, k.ec_bits);
    if (!d) return false;
    der = std::move(*d);
    sig = der;
  }  // Ed25519: no digest (EdDSA hashes internally)
  if (k.kind != KeySet::Key::Kind::ed25519 && !md) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return false;
  bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, k.pkey.get()) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

// A NumericDate claim: absent is fine, anything but a finite number is not.
bool numeric_date(const boost::json::object& claims, const char* name, std::optional<double>& out,
                  std::string* why) {
  auto* v = claims.if_contains(name);
  if (!v) return true;
  double d;
  if (v->is_int64())
    d = static_cast<double>(v->get_int64());
  else if (v->is_uint64())
    d = static_cast<double>(v->get_uint64());
  else if (v->is_double())
    d = v->get_double();
  else
    return fail(why, std::string("claim ") + name + " must be a number");
  if (!std::isfinite(d)) return fail(why, std::string("claim ") + name + " must be finite");
  out = d;
  return true;
}

}  // namespace

std::optional<std::string> base64url_decode(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = b64_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;  // non-zero pad bits
  return out;
}

std::string base64url_encode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 63]);
  return out;
}

std::optional<JwtParts> parse_jwt(std::string_view token, std::string* why) {
  auto none = [&](std::string m) -> std::optional<JwtParts> {
    fail(why, std::move(m));
    return std::nullopt;
  };
  if (token.empty()) return none("empty token");
  if (token.size() > kMaxToken) return none("token longer than 16 KiB");
  auto d1 = token.find('.');
  auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
    return none("a token has three dot-separated parts");
  auto header = base64url_decode(token.substr(0, d1));
  auto payload = base64url_decode(token.substr(d1 + 1, d2 - d1 - 1));
  auto sig = base64url_decode(token.substr(d2 + 1));
  if (!header || !payload || !sig) return none("a token part is not base64url");
  JwtParts p;
  auto h = parse_object(*header);
  if (!h) return none("the token header is not a JSON object");
  auto c = parse_object(*payload);
  if (!c) return none("the token claims are not a JSON object");
  p.header = std::move(*h);
  p.claims = std::move(*c);
  auto* alg = p.header.if_contains("alg");
  if (!alg || !alg->is_string()) return none("the token header has no alg");
  p.alg.assign(alg->get_string().data(), alg->get_string().size());
  if (auto* kid = p.header.if_contains("kid")) {
    if (!kid->is_string()) return none("the token header's kid must be a string");
    p.kid.assign(kid->get_string().data(), kid->get_string().size());
  }
  if (p.header.contains("crit")) return none("the token header has crit extensions");
  p.signing_input = token.substr(0, d2);
  p.signature = std::move(*sig);
  return p;
}

std::variant<Credential, std::string> verify_jwt(const KeySet& keys, std::string_view token,
                                                 const VerifyOptions& options, long long now) {
  std::string why;
  auto parts = parse_jwt(token, &why);
  if (!parts) return why;
  auto& p = *parts;
  // Candidates: keys whose type allows the token's algorithm; a kid narrows to keys named so.
  std::vector<const KeySet::Key*> candidates;
  bool kid_known = false;
  for (auto& k : keys.keys())
    if (!p.kid.empty() && k->kid == p.kid) kid_known = true;
  for (auto& k : keys.keys()) {
    if (!k->allows(p.alg)) continue;
    if (kid_known && k->kid != p.kid) continue;
    candidates.push_back(k.get());
  }
  if (candidates.empty()) return "no trusted key verifies algorithm " + p.alg.substr(0, 16);
  bool verified = false;
  for (auto* k : candidates) {
    verified = k->kind == KeySet::Key::Kind::hmac
                   ? verify_hmac(*k, p.alg, p.signing_input, p.signature)
                   : verify_pkey(*k, p.alg, p.signing_input, p.signature);
    if (verified) break;
  }
  if (!verified) return std::string("bad signature");

  auto& c = p.claims;
  std::optional<double> exp, nbf, iat;
  if (!numeric_date(c, "exp", exp, &why) || !numeric_date(c, "nbf", nbf, &why) ||
      !numeric_date(c, "iat", iat, &why))
    return why;
  auto t = static_cast<double>(now);
  auto leeway = static_cast<double>(options.leeway_secs);
  if (exp && t >= *exp + leeway) return std::string("the token has expired");
  if (nbf && t + leeway < *nbf) return std::string("the token is not valid yet (nbf)");
  if (iat && t + leeway < *iat) return std::string("the token is issued in the future (iat)");
  if (!options.issuer.empty()) {
    auto* iss = c.if_contains("iss");
    if (!iss || !iss->is_string() || iss->get_string() != options.issuer)
      return std::string("wrong issuer");
  }
  if (!options.audience.empty()) {
    auto* aud = c.if_contains("aud");
    bool ok = false;
    if (aud && aud->is_string()) ok = aud->get_string() == options.audience;
    if (aud && aud->is_array())
      for (auto& a : aud->get_array())
        if (a.is_string() && a.get_string() == options.audience) ok = true;
    if (!ok) return std::string("wrong audience");
  }
  Credential cred;
  if (auto* sub = c.if_contains("sub")) {
    if (!sub->is_string()) return std::string("claim sub must be a string");
    cred.sub.assign(sub->get_string().data(), sub->get_string().size());
  }
  if (auto* rt = c.if_contains("realtime")) {
    auto g = grants_from_json(*rt, &why);
    if (!g) return why;
    cred.grants = std::move(*g);
  }
  if (exp) {
    // The grant ends where verification would start refusing the token.
    double end = std::floor(*exp + leeway);
    cred.expires_at = end > 9e15 ? 0 : static_cast<long long>(end);
  }
  return cred;
}

}  // namespace forrealtime::auth
