#include "adapters/web/request_parsing.h"

#include <string>

#include <catch2/catch.hpp>

using namespace coach::adapters::web;

TEST_CASE("a well-formed message body parses", "[request_parsing]") {
  const auto parse = ParseMessageRequest(R"({"text": "my back hurts \u00e9", "client_message_id": "c-1"})");
  REQUIRE(parse.request);
  CHECK_FALSE(parse.problem);
  CHECK(parse.request->text == "my back hurts \xC3\xA9");
  CHECK(parse.request->client_message_id == "c-1");
}

TEST_CASE("each malformed body names its problem", "[request_parsing]") {
  struct Case {
    std::string body;
    std::string code;
    std::string mentions;
  };
  const Case cases[] = {
      {"{not json", "malformed_json", "JSON"},
      {"[1, 2]", "malformed_json", "object"},
      {"", "malformed_json", "JSON"},
      {R"({"client_message_id": "a"})", "missing_field", "text"},
      {R"({"text": "hi"})", "missing_field", "client_message_id"},
      {R"({"text": 5, "client_message_id": "a"})", "invalid_field", "text"},
      {R"({"text": null, "client_message_id": "a"})", "invalid_field", "text"},
      {R"({"text": "hi", "client_message_id": 7})", "invalid_field", "client_message_id"},
      {R"({"text": "hi", "client_message_id": ""})", "invalid_field", "client_message_id"},
      {R"({"text": "hi", "client_message_id": "has space"})", "invalid_field", "client_message_id"},
      {R"({"text": "hi", "client_message_id": "a", "admin": true})", "unknown_field", "admin"},
      {"{\"text\": \"caf\xC3\x28\", \"client_message_id\": \"a\"}", "invalid_utf8", "UTF-8"},
      {"{\"text\": \"\xED\xA0\x80\", \"client_message_id\": \"a\"}", "invalid_utf8", "UTF-8"},
  };
  for (const auto& item : cases) {
    INFO(item.body);
    const auto parse = ParseMessageRequest(item.body);
    REQUIRE(parse.problem);
    CHECK_FALSE(parse.request);
    CHECK(parse.problem->code == item.code);
    CHECK(parse.problem->message.find(item.mentions) != std::string::npos);
  }
}

TEST_CASE("client message ids have a length limit", "[request_parsing]") {
  const std::string longest(kMaxClientMessageIdBytes, 'x');
  CHECK(ParseMessageRequest(R"({"text": "", "client_message_id": ")" + longest + "\"}").request);
  CHECK(ParseMessageRequest(R"({"text": "", "client_message_id": ")" + longest + "x\"}").problem);
}

TEST_CASE("JSON content types are recognised with parameters and any case", "[request_parsing]") {
  CHECK(IsJsonContentType("application/json"));
  CHECK(IsJsonContentType("Application/JSON; charset=utf-8"));
  CHECK(IsJsonContentType(" application/json ;charset=UTF-8"));
  CHECK_FALSE(IsJsonContentType(""));
  CHECK_FALSE(IsJsonContentType("text/plain"));
  CHECK_FALSE(IsJsonContentType("application/jsonp"));
  CHECK_FALSE(IsJsonContentType("application/x-www-form-urlencoded"));
}

TEST_CASE("message ids parse strictly", "[request_parsing]") {
  CHECK(ParseMessageId("") == 0);
  CHECK(ParseMessageId("0") == 0);
  CHECK(ParseMessageId("42") == 42);
  CHECK_FALSE(ParseMessageId("-1"));
  CHECK_FALSE(ParseMessageId("4a"));
  CHECK_FALSE(ParseMessageId(" 4"));
  CHECK_FALSE(ParseMessageId("9999999999999999999999"));
}

TEST_CASE("bearer tokens are read from the Authorization header", "[request_parsing]") {
  CHECK(BearerToken("Bearer abc") == "abc");
  CHECK(BearerToken("bearer   abc ") == "abc");
  CHECK(BearerToken("Basic abc").empty());
  CHECK(BearerToken("Bearer ").empty());
  CHECK(BearerToken("").empty());
}
