#include "auth/jwt.hpp"

#include <gtest/gtest.h>

#include "support/jwt_mint.hpp"

using namespace forrealtime::auth;
using fr_test::mint;
using fr_test::mint_hmac;
using fr_test::TestKey;

namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef-secret";
constexpr long long kNow = 1'800'000'000;

std::string claims(const std::string& extra = "") {
  return R"({"sub":"42","realtime":{"subscribe":["room:*"]})" + extra + "}";
}

KeySet secret_keys() {
  KeySet k;
  std::string why;
  EXPECT_TRUE(k.add_secret(kSecret, &why)) << why;
  return k;
}

std::string refused(const KeySet& keys, const std::string& token, VerifyOptions o = {}) {
  auto r = verify_jwt(keys, token, o, kNow);
  if (std::holds_alternative<Credential>(r)) {
    ADD_FAILURE() << "accepted: " << token;
    return "";
  }
  return std::get<std::string>(r);
}

Credential accepted(const KeySet& keys, const std::string& token, VerifyOptions o = {}) {
  auto r = verify_jwt(keys, token, o, kNow);
  if (auto* why = std::get_if<std::string>(&r)) {
    ADD_FAILURE() << "refused (" << *why << "): " << token;
    return {};
  }
  return std::get<Credential>(r);
}

}  // namespace

TEST(AuthBase64Url, StrictRoundTrip) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00"})
    EXPECT_EQ(base64url_decode(base64url_encode(s)), s);
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_FALSE(base64url_decode("Zm9v="));  // padding
  EXPECT_FALSE(base64url_decode("Zm+v"));   // the other alphabet
  EXPECT_FALSE(base64url_decode("Z"));      // impossible length
  EXPECT_FALSE(base64url_decode("Zh"));     // non-zero pad bits ("Zg" is "f")
  EXPECT_EQ(base64url_decode("Zg"), "f");
}

TEST(AuthJwt, ParseRefusesMalformedTokens) {
  std::string why;
  for (std::string bad : {"", "a", "a.b", "a.b.c.d", "..", "e30.e30.!", "W10.e30.", "e30.W10.",
                          "e30.e30."}) {  // {} has no alg; [] is no object
    EXPECT_FALSE(parse_jwt(bad, &why)) << bad;
    EXPECT_FALSE(why.empty());
  }
  auto crit = mint_hmac("HS256", kSecret, claims(), ",\"crit\":[\"exp\"]");
  EXPECT_FALSE(parse_jwt(crit, &why));
  EXPECT_FALSE(parse_jwt(std::string(20000, 'a'), &why));
  auto ok = parse_jwt(mint_hmac("HS256", kSecret, claims()), &why);
  ASSERT_TRUE(ok) << why;
  EXPECT_EQ(ok->alg, "HS256");
  EXPECT_EQ(ok->claims.at("sub").as_string(), "42");
}

TEST(AuthJwt, HmacFamily) {
  auto keys = secret_keys();
  for (auto alg : {"HS256", "HS384", "HS512"}) {
    auto c = accepted(keys, mint_hmac(alg, kSecret, claims()));
    EXPECT_EQ(c.sub, "42");
    EXPECT_EQ(c.grants.subscribe, std::vector<std::string>{"room:*"});
  }
  EXPECT_EQ(refused(keys, mint_hmac("HS256", kSecret + "x", claims())), "bad signature");
  // Flip one byte of the payload: the signature no longer holds.
  auto t = mint_hmac("HS256", kSecret, claims());
  auto other = mint_hmac("HS256", kSecret, R"({"sub":"43"})");
  auto forged = other.substr(0, other.rfind('.')) + t.substr(t.rfind('.'));
  EXPECT_EQ(refused(keys, forged), "bad signature");
  // A truncated signature is not a prefix match.
  auto sig = *base64url_decode(t.substr(t.rfind('.') + 1));
  EXPECT_EQ(refused(keys, t.substr(0, t.rfind('.') + 1) + base64url_encode(sig.substr(0, 30))),
            "bad signature");
  KeySet short_secret;
  std::string why;
  EXPECT_FALSE(short_secret.add_secret("short", &why));
}

TEST(AuthJwt, NoneAndUnknownAlgorithmsAreRefused) {
  auto keys = secret_keys();
  EXPECT_NE(refused(keys, fr_test::mint_none(claims())).find("no trusted key"), std::string::npos);
  auto rsa = TestKey::rsa();
  std::string why;
  ASSERT_TRUE(keys.add_pem(rsa.public_pem(), &why)) << why;
  EXPECT_NE(refused(keys, fr_test::mint_none(claims())).find("no trusted key"), std::string::npos);
  EXPECT_NE(refused(keys, mint_hmac("HS1", kSecret, claims())).find("no trusted key"),
            std::string::npos);
}

TEST(AuthJwt, AlgorithmConfusionWithThePublicKey) {
  auto rsa = TestKey::rsa();
  KeySet keys;
  std::string why;
  ASSERT_TRUE(keys.add_pem(rsa.public_pem(), &why)) << why;
  accepted(keys, mint(rsa, "RS256", claims()));
  // The attack: HS256 keyed with the (public) PEM text itself.
  auto pem = rsa.public_pem();
  EXPECT_NE(refused(keys, mint_hmac("HS256", pem, claims())).find("no trusted key"),
            std::string::npos);
  // Nor does an RSA key verify an EC algorithm name.
  EXPECT_NE(refused(keys, mint_hmac("ES256", "x", claims())).find("no trusted key"),
            std::string::npos);
}

TEST(AuthJwt, EveryAsymmetricKind) {
  struct Case {
    TestKey key;
    std::vector<const char*> algs;
  };
  std::vector<Case> cases = {{TestKey::rsa(), {"RS256", "RS384", "RS512"}},
                             {TestKey::ec(256), {"ES256"}},
                             {TestKey::ec(384), {"ES384"}},
                             {TestKey::ed25519(), {"EdDSA"}}};
  for (auto& c : cases) {
    KeySet pem, jwks;
    std::string why;
    ASSERT_TRUE(pem.add_pem(c.key.public_pem(), &why)) << why;
    ASSERT_TRUE(jwks.add_jwks("{\"keys\":[" + c.key.jwk("k1") + "]}", &why)) << why;
    for (auto alg : c.algs) {
      EXPECT_EQ(accepted(pem, mint(c.key, alg, claims())).sub, "42") << alg;
      EXPECT_EQ(accepted(jwks, mint(c.key, alg, claims(), "k1")).sub, "42") << alg;
    }
    // Another key of the same kind does not verify.
    auto stranger = c.algs[0] == std::string("ES384")   ? TestKey::ec(384)
                    : c.algs[0] == std::string("ES256") ? TestKey::ec(256)
                    : c.algs[0] == std::string("EdDSA") ? TestKey::ed25519()
                                                        : TestKey::rsa();
    EXPECT_EQ(refused(pem, mint(stranger, c.algs[0], claims())), "bad signature");
  }
  // The curve fixes the algorithm: a P-256 key does not take an ES384 token.
  auto p256 = TestKey::ec(256);
  KeySet k;
  std::string why;
  ASSERT_TRUE(k.add_pem(p256.public_pem(), &why));
  accepted(k, mint(p256, "ES256", claims()));
  auto relabelled = mint_hmac("ES384", "x", claims());  // any ES384 token
  EXPECT_NE(refused(k, relabelled).find("no trusted key"), std::string::npos);
  // A small RSA key is refused at load time.
  KeySet small;
  EXPECT_FALSE(small.add_pem(TestKey::rsa(1024).public_pem(), &why));
}

TEST(AuthJwt, JwksKidAndAlg) {
  auto a = TestKey::rsa(), b = TestKey::rsa();
  KeySet keys;
  std::string why;
  ASSERT_TRUE(keys.add_jwks("{\"keys\":[" + a.jwk("a") + "," + b.jwk("b") +
                                R"(,{"kty":"EC","use":"enc","crv":"P-256"},{"kty":"XYZ"}]})",
                            &why))
      << why;
  EXPECT_EQ(keys.size(), 2u);
  accepted(keys, mint(a, "RS256", claims(), "a"));
  accepted(keys, mint(b, "RS256", claims(), "b"));
  EXPECT_EQ(refused(keys, mint(b, "RS256", claims(), "a")), "bad signature");
  accepted(keys, mint(b, "RS256", claims()));  // no kid: every candidate is tried
  // A JWK's own alg narrows what it verifies.
  KeySet narrow;
  auto jwk = a.jwk("a");
  jwk.insert(1, "\"alg\":\"RS512\",");
  ASSERT_TRUE(narrow.add_jwks("{\"keys\":[" + jwk + "]}", &why)) << why;
  EXPECT_NE(refused(narrow, mint(a, "RS256", claims())).find("no trusted key"), std::string::npos);
  accepted(narrow, mint(a, "RS512", claims()));
  for (auto bad : {"", "[]", "{}", R"({"keys":[]})", R"({"keys":[{"kty":"RSA","n":"AQ"}]})",
                   R"({"keys":[{"kty":"EC","crv":"P-521","x":"AA","y":"AA"}]})",
                   R"({"keys":[{"kty":"oct","k":"c2hvcnQ"}]})"}) {
    KeySet k;
    EXPECT_FALSE(k.add_jwks(bad, &why)) << bad;
  }
}

TEST(AuthJwt, TimeAudienceIssuer) {
  auto keys = secret_keys();
  auto tok = [&](const std::string& extra) { return mint_hmac("HS256", kSecret, claims(extra)); };
  auto n = std::to_string(kNow);
  EXPECT_EQ(refused(keys, tok(",\"exp\":" + std::to_string(kNow - 31))), "the token has expired");
  auto c = accepted(keys, tok(",\"exp\":" + std::to_string(kNow - 29)));  // within the leeway
  EXPECT_EQ(c.expires_at, kNow + 1);
  EXPECT_EQ(refused(keys, tok(",\"exp\":" + n), VerifyOptions{"", "", 0}), "the token has expired");
  EXPECT_EQ(accepted(keys, tok(",\"exp\":" + n + ".5"), VerifyOptions{"", "", 0}).expires_at, kNow);
  EXPECT_EQ(refused(keys, tok(",\"nbf\":" + std::to_string(kNow + 60))),
            "the token is not valid yet (nbf)");
  accepted(keys, tok(",\"nbf\":" + std::to_string(kNow + 20)));
  EXPECT_EQ(refused(keys, tok(",\"iat\":" + std::to_string(kNow + 600))),
            "the token is issued in the future (iat)");
  EXPECT_EQ(refused(keys, tok(",\"exp\":\"soon\"")), "claim exp must be a number");
  EXPECT_EQ(accepted(keys, tok("")).expires_at, 0);

  VerifyOptions aud{.audience = "gw", .issuer = "https://idp"};
  accepted(keys, tok(R"(,"aud":"gw","iss":"https://idp")"), aud);
  accepted(keys, tok(R"(,"aud":["x","gw"],"iss":"https://idp")"), aud);
  EXPECT_EQ(refused(keys, tok(R"(,"aud":"other","iss":"https://idp")"), aud), "wrong audience");
  EXPECT_EQ(refused(keys, tok(R"(,"iss":"https://idp")"), aud), "wrong audience");
  EXPECT_EQ(refused(keys, tok(R"(,"aud":"gw","iss":"https://evil")"), aud), "wrong issuer");
  EXPECT_EQ(refused(keys, tok(R"(,"aud":"gw")"), aud), "wrong issuer");
}

TEST(AuthJwt, GrantsAndSubject) {
  auto keys = secret_keys();
  auto c = accepted(keys, mint_hmac("HS256", kSecret,
                                    R"({"sub":"u1","realtime":{"subscribe":["a"],"history":[],
                                        "emit":["user:{sub}"]}})"));
  EXPECT_EQ(c.sub, "u1");
  ASSERT_TRUE(c.grants.history);
  EXPECT_TRUE(c.grants.history->empty());
  EXPECT_EQ(c.grants.emit, std::vector<std::string>{"user:{sub}"});
  auto none = accepted(keys, mint_hmac("HS256", kSecret, R"({"sub":"u1"})"));
  EXPECT_TRUE(none.grants.subscribe.empty());
  EXPECT_NE(refused(keys, mint_hmac("HS256", kSecret, R"({"realtime":{"emit":"a"}})"))
                .find("realtime.emit"),
            std::string::npos);
  EXPECT_EQ(refused(keys, mint_hmac("HS256", kSecret, R"({"sub":7})")),
            "claim sub must be a string");
}
