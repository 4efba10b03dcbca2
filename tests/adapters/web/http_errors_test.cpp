#include "adapters/web/http_errors.h"

#include <stdexcept>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bot/conversation_store.h"

using namespace coach::adapters::web;

TEST_CASE("store failures map to 503 and anything else to 500, without internals", "[http_errors]") {
  const auto store = MapException(std::make_exception_ptr(coach::bot::StoreError("disk I/O error at page 7", 10)));
  CHECK(store.status == 503);
  CHECK(store.code == "storage_unavailable");
  CHECK(store.message.find("page 7") == std::string::npos);
  // The log gets the store's own words, the client never does.
  CHECK(LogDetail(std::make_exception_ptr(coach::bot::StoreError("disk I/O error at page 7", 10)))
            .find("disk I/O error at page 7") != std::string::npos);

  const auto bug = MapException(std::make_exception_ptr(std::logic_error("vector index 12 out of range")));
  CHECK(bug.status == 500);
  CHECK(bug.code == "internal_error");
  CHECK(bug.message.find("vector") == std::string::npos);
  CHECK(LogDetail(std::make_exception_ptr(std::logic_error("vector index 12 out of range"))).empty());

  CHECK(MapException(std::make_exception_ptr(42)).status == 500);
}

TEST_CASE("bare statuses get a stable code", "[http_errors]") {
  CHECK(ErrorForStatus(413).code == "payload_too_large");
  CHECK(ErrorForStatus(404).code == "not_found");
  CHECK(ErrorForStatus(405).code == "method_not_allowed");
  CHECK(ErrorForStatus(400).code == "bad_request");
  CHECK(ErrorForStatus(418).status == 418);
  CHECK(ErrorForStatus(502).code == "internal_error");
}

TEST_CASE("the error body has one shape", "[http_errors]") {
  const auto body = nlohmann::json::parse(ErrorBody("unknown_field", "unknown field: \"x\""));
  CHECK(body == nlohmann::json{{"error", {{"code", "unknown_field"}, {"message", "unknown field: \"x\""}}}});
}
