#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace coach::process_tests {

/// A web chat session as the API hands it out.
struct ChatSession {
  std::string id;
  std::string token;
};

/// One bot reply from POST .../messages.
struct ChatReply {
  std::int64_t id = 0;
  std::string text;
  nlohmann::json quick_replies = nlohmann::json::array();
};

/// The outcome of POST .../messages. `status_code` 0 means no HTTP answer at all (connection refused or cut).
struct SendOutcome {
  int status_code = 0;
  std::vector<ChatReply> replies;
  std::string conversation_status;
  std::string body;
};

/// One transcript line from GET .../messages.
struct TranscriptLine {
  std::int64_t id = 0;
  std::string author;  ///< "user", "bot", "coach", "system"
  std::string text;
  nlohmann::json quick_replies = nlohmann::json::array();
};

/// The web chat API v1 seen from a client, over one keep-alive connection. Not thread-safe: one per thread.
class ChatApiClient {
 public:
  explicit ChatApiClient(int port);

  /// POST /api/v1/sessions; nullopt unless 201 with both fields.
  std::optional<ChatSession> CreateSession();
  SendOutcome Send(const ChatSession& session, const std::string& text, const std::string& client_message_id);
  /// The whole transcript, paging with ?after= until a page comes back empty; nullopt on any non-200.
  std::optional<std::vector<TranscriptLine>> Transcript(const ChatSession& session);

  /// Closes the keep-alive connection, so that a server being stopped need not wait for it to time out.
  void Disconnect() { client_->stop(); }

  httplib::Client& Http() { return *client_; }

 private:
  std::unique_ptr<httplib::Client> client_;
};

/// Reads GET .../messages bodies, whether the lines come as a bare array or under "messages".
std::vector<TranscriptLine> ParseTranscriptPage(const nlohmann::json& body);

/// Whether two transcripts hold the same lines (ids, authors, texts, quick replies) in the same order.
bool SameTranscript(const std::vector<TranscriptLine>& left, const std::vector<TranscriptLine>& right);

}  // namespace coach::process_tests
