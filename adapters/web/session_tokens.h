#pragma once

#include <string>
#include <string_view>

namespace coach::adapters::web {

/// A new web chat session's credentials.
struct SessionCredentials {
  std::string session_id;  ///< public: appears in URLs and is the conversation's external id (16 random bytes, hex)
  std::string token;       ///< secret: only the runner's browser has it (32 random bytes, base64url)
};

/// Web session credentials from libsodium's random generator. The server keeps only TokenHash(token) (in the
/// conversation row), so a database leak yields no usable token. Thread-safe.
class SessionTokens {
 public:
  /// Fresh, unguessable credentials.
  static SessionCredentials Issue();
  /// The hash stored for a token and compared on every request (BLAKE2b-256, hex).
  static std::string TokenHash(std::string_view token);
  /// True for strings shaped like a session id (32 lower-case hex digits): anything else is 404 without a lookup.
  static bool LooksLikeSessionId(std::string_view session_id);
  /// Constant-time equality for secrets of any length (the admin token).
  static bool SecretsEqual(std::string_view a, std::string_view b);
};

}  // namespace coach::adapters::web
