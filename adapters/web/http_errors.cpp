#include "adapters/web/http_errors.h"

#include <nlohmann/json.hpp>

#include "bot/conversation_store.h"

namespace coach::adapters::web {

ErrorResponse MapException(std::exception_ptr failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const bot::StoreError&) {
    return {503, "storage_unavailable", "the conversation store is unavailable; retry shortly"};
  } catch (...) {
    return {500, "internal_error", "the server failed to handle the request"};
  }
}

std::string LogDetail(std::exception_ptr failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const bot::StoreError& error) {
    return error.what();
  } catch (...) {
    return {};
  }
}

ErrorResponse ErrorForStatus(int status) {
  switch (status) {
    case 400:
      return {400, "bad_request", "the request is malformed"};
    case 401:
      return {401, "unauthorized", "a valid bearer token is required"};
    case 403:
      return {403, "forbidden", "this origin is not allowed"};
    case 404:
      return {404, "not_found", "no such resource"};
    case 405:
      return {405, "method_not_allowed", "this method is not allowed on this resource"};
    case 413:
      return {413, "payload_too_large", "the request body is larger than 16 KB"};
    case 414:
      return {414, "uri_too_long", "the request URI is too long"};
    case 415:
      return {415, "unsupported_media_type", "the body must be application/json"};
    case 429:
      return {429, "rate_limited", "too many requests; retry later"};
    case 503:
      return {503, "unavailable", "the service is unavailable; retry shortly"};
    default:
      break;
  }
  if (status >= 500) return {status, "internal_error", "the server failed to handle the request"};
  return {status, "request_failed", "the request failed"};
}

std::string ErrorBody(const std::string& code, const std::string& message) {
  return nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
}

}  // namespace coach::adapters::web
