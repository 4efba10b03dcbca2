#include "adapters/web/session_tokens.h"

#include <set>

#include <catch2/catch.hpp>

using namespace coach::adapters::web;

TEST_CASE("issued credentials are long, URL-safe and unique", "[session_tokens]") {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const auto credentials = SessionTokens::Issue();
    CHECK(credentials.token.size() == 43);  // 32 bytes in unpadded base64url
    CHECK(credentials.token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          std::string::npos);
    CHECK(SessionTokens::LooksLikeSessionId(credentials.session_id));
    CHECK(seen.insert(credentials.token).second);
    CHECK(seen.insert(credentials.session_id).second);
  }
}

TEST_CASE("the stored hash identifies a token without revealing it", "[session_tokens]") {
  const auto first = SessionTokens::Issue();
  const auto second = SessionTokens::Issue();
  const auto hash = SessionTokens::TokenHash(first.token);
  CHECK(hash.size() == 64);
  CHECK(hash == SessionTokens::TokenHash(first.token));
  CHECK(hash != SessionTokens::TokenHash(second.token));
  CHECK(hash.find(first.token) == std::string::npos);
}

TEST_CASE("session ids have one shape", "[session_tokens]") {
  CHECK(SessionTokens::LooksLikeSessionId("0123456789abcdef0123456789abcdef"));
  CHECK_FALSE(SessionTokens::LooksLikeSessionId("0123456789ABCDEF0123456789ABCDEF"));
  CHECK_FALSE(SessionTokens::LooksLikeSessionId("0123456789abcdef"));
  CHECK_FALSE(SessionTokens::LooksLikeSessionId("../../etc/passwd0123456789abcdef"));
}

TEST_CASE("secrets compare by content", "[session_tokens]") {
  CHECK(SessionTokens::SecretsEqual("admin-secret", "admin-secret"));
  CHECK_FALSE(SessionTokens::SecretsEqual("admin-secret", "admin-secreT"));
  CHECK_FALSE(SessionTokens::SecretsEqual("admin-secret", "admin"));
}
