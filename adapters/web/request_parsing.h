#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace coach::adapters::web {

/// The body of `POST /api/v1/sessions/{id}/messages`.
struct MessageRequest {
  std::string text;
  std::string client_message_id;
};

/// Why a body was refused: the error code and a message naming the offending field.
struct RequestProblem {
  std::string code;  ///< "malformed_json", "invalid_utf8", "invalid_field", "missing_field", "unknown_field"
  std::string message;
};

/// Either a request or the problem with it (bad bodies are an expected outcome, so a value, not an exception).
struct MessageRequestParse {
  std::optional<MessageRequest> request;
  std::optional<RequestProblem> problem;
};

/// The longest client message id accepted; ids are opaque to us but stored with every message.
inline constexpr std::size_t kMaxClientMessageIdBytes = 128;

/// Validates a message body: a JSON object, valid UTF-8, exactly `text` (string) and `client_message_id`
/// (non-empty printable ASCII string up to kMaxClientMessageIdBytes); anything else is named in the problem.
MessageRequestParse ParseMessageRequest(std::string_view body);

/// A JSON media type ("application/json", optionally with parameters such as "; charset=utf-8").
bool IsJsonContentType(std::string_view content_type);

/// A message id from `?after=` or `Last-Event-ID`: empty means 0, otherwise a non-negative decimal integer.
std::optional<std::int64_t> ParseMessageId(std::string_view text);

/// The token of an `Authorization: Bearer <token>` header; empty when absent or another scheme.
std::string BearerToken(std::string_view authorization_header);

}  // namespace coach::adapters::web
