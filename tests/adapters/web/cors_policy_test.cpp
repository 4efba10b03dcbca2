#include "adapters/web/cors_policy.h"

#include <stdexcept>

#include <catch2/catch.hpp>

using namespace coach::adapters::web;

TEST_CASE("allowed origins are exact", "[cors_policy]") {
  const auto policy = CorsPolicy::FromList(" https://coach.example , http://localhost:3000/,https://coach.example");
  CHECK(policy.origins().size() == 2);
  CHECK(policy.Allows("https://coach.example"));
  CHECK(policy.Allows("http://localhost:3000"));
  CHECK_FALSE(policy.Allows("http://coach.example"));
  CHECK_FALSE(policy.Allows("https://coach.example.evil.test"));
  CHECK_FALSE(policy.Allows("https://evil.test"));
  CHECK_FALSE(policy.Allows("null"));
  CHECK_FALSE(policy.Allows(""));
}

TEST_CASE("an empty list allows no cross-origin caller", "[cors_policy]") {
  const auto policy = CorsPolicy::FromList("");
  CHECK(policy.origins().empty());
  CHECK_FALSE(policy.Allows("https://coach.example"));
}

TEST_CASE("wildcards and malformed origins are refused at start", "[cors_policy]") {
  CHECK_THROWS_AS(CorsPolicy::FromList("*"), std::invalid_argument);
  CHECK_THROWS_AS(CorsPolicy::FromList("https://a.example, *"), std::invalid_argument);
  CHECK_THROWS_AS(CorsPolicy::FromList("coach.example"), std::invalid_argument);
  CHECK_THROWS_AS(CorsPolicy::FromList("https://coach.example/path"), std::invalid_argument);
  CHECK_THROWS_AS(CorsPolicy::FromList("https://a.example 'unsafe-inline'"), std::invalid_argument);
}

TEST_CASE("the chat page policy is strict and framed by the allowed origins", "[cors_policy]") {
  const auto policy = CorsPolicy::FromList("https://coach.example,https://club.example");
  const auto csp = policy.ChatPageContentSecurityPolicy();
  CHECK(csp.find("default-src 'self'") != std::string::npos);
  CHECK(csp.find("script-src 'self';") != std::string::npos);
  CHECK(csp.find("object-src 'none'") != std::string::npos);
  CHECK(csp.find("base-uri 'none'") != std::string::npos);
  CHECK(csp.find("frame-ancestors 'self' https://coach.example https://club.example") != std::string::npos);
  CHECK(csp.find("unsafe") == std::string::npos);
  CHECK(csp.find('*') == std::string::npos);
}
