#pragma once

#include <exception>
#include <string>

namespace coach::adapters::web {

/// What the client gets for a failure: status, code and message of the JSON error body.
struct ErrorResponse {
  int status = 500;
  std::string code;
  std::string message;
};

/// The one place where exceptions become statuses: a StoreError (database down, disk full, locked too long) is
/// 503 so that clients retry; anything else is 500. Messages never echo request content or internals.
ErrorResponse MapException(std::exception_ptr failure);

/// What the server's log says of the same failure, never the client: a store error's own words (the operation and
/// SQLite's message; no runner text), which is what an operator needs; empty for anything else.
std::string LogDetail(std::exception_ptr failure);

/// The code and message of a bare status when nothing more specific set a body (httplib's own 404, 413...).
ErrorResponse ErrorForStatus(int status);

/// `{"error": {"code": ..., "message": ...}}`
std::string ErrorBody(const std::string& code, const std::string& message);

}  // namespace coach::adapters::web
