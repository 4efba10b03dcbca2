#include "adapters/web/request_parsing.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "dialog/text_input.h"

namespace coach::adapters::web {
namespace {

MessageRequestParse Problem(std::string code, std::string message) {
  MessageRequestParse parse;
  parse.problem = RequestProblem{std::move(code), std::move(message)};
  return parse;
}

bool IsPrintableAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x21 && c <= 0x7E; });
}

std::string Lower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

}  // namespace

MessageRequestParse ParseMessageRequest(std::string_view body) {
  // nlohmann rejects ill-formed UTF-8 as a parse error; checking first gives the client the precise reason.
  if (!dialog::IsValidUtf8(body)) return Problem("invalid_utf8", "the body is not valid UTF-8");
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error&) {
    return Problem("malformed_json", "the body is not valid JSON");
  }
  if (!document.is_object()) return Problem("malformed_json", "the body must be a JSON object");
  for (const auto& item : document.items()) {
    if (item.key() != "text" && item.key() != "client_message_id") {
      return Problem("unknown_field", "unknown field: " + item.key());
    }
  }
  const auto text = document.find("text");
  if (text == document.end()) return Problem("missing_field", "missing field: text");
  if (!text->is_string()) return Problem("invalid_field", "field text must be a string");
  const auto client_id = document.find("client_message_id");
  if (client_id == document.end()) return Problem("missing_field", "missing field: client_message_id");
  if (!client_id->is_string()) return Problem("invalid_field", "field client_message_id must be a string");
  const auto& id = client_id->get_ref<const std::string&>();
  if (id.empty() || id.size() > kMaxClientMessageIdBytes || !IsPrintableAscii(id)) {
    return Problem("invalid_field", "field client_message_id must be 1 to 128 printable ASCII characters");
  }
  MessageRequestParse parse;
  parse.request = MessageRequest{text->get<std::string>(), id};
  return parse;
}

bool IsJsonContentType(std::string_view content_type) {
  const auto media_type = Lower(content_type.substr(0, content_type.find(';')));
  const auto first = media_type.find_first_not_of(" \t");
  const auto last = media_type.find_last_not_of(" \t");
  if (first == std::string::npos) return false;
  return media_type.substr(first, last - first + 1) == "application/json";
}

std::optional<std::int64_t> ParseMessageId(std::string_view text) {
  if (text.empty()) return 0;
  if (text.size() > 18) return std::nullopt;  // beyond any id we hand out; also keeps the sum below from overflowing
  std::int64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::string BearerToken(std::string_view authorization_header) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization_header.size() <= kScheme.size()) return {};
  if (Lower(authorization_header.substr(0, kScheme.size())) != kScheme) return {};
  auto token = authorization_header.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return std::string(token);
}

}  // namespace coach::adapters::web
