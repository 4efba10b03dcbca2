#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace coach::adapters::web {

/// Which web origins may call the API from a browser and embed the chat page: exact origins only
/// ("https://coach.example", scheme and port included), never a wildcard.
class CorsPolicy {
 public:
  /// Parses COACHBOT_ALLOWED_ORIGINS: comma separated, spaces and trailing slashes ignored; throws
  /// std::invalid_argument for "*" or an entry that is not scheme://host[:port].
  static CorsPolicy FromList(std::string_view comma_separated);

  bool Allows(std::string_view origin) const;
  const std::vector<std::string>& origins() const { return origins_; }
  /// The Content-Security-Policy of the chat page: strict, framed only by us and the allowed origins.
  std::string ChatPageContentSecurityPolicy() const;

 private:
  std::vector<std::string> origins_;
};

}  // namespace coach::adapters::web
