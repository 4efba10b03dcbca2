#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace coach::bot {

/// Who wrote a transcript line.
enum class Author { user, bot, coach, system };

/// One line of a transcript as stored.
struct MessageRecord {
  std::int64_t id = 0;  ///< increases with every message in the whole store: SSE event ids and `after=` use it
  std::int64_t conversation_id = 0;
  Author author = Author::user;
  std::string text;
  nlohmann::json quick_replies = nlohmann::json::array();  ///< [{"label":..,"value":..}]
  std::string kind = "normal";                             ///< dialog::ReplyKind name, for styling
  std::optional<std::string> client_message_id;            ///< runner messages only: the idempotency key
  std::int64_t created_at_ms = 0;
};

/// A conversation's row: who it is with, where the dialog stands, and who is answering.
struct ConversationRecord {
  std::int64_t id = 0;
  std::string channel;           ///< "web", "telegram"
  std::string external_id;       ///< web session id, Telegram chat id
  std::string state_key;         ///< dialog state key
  nlohmann::json slots = nlohmann::json::object();
  std::string status = "bot";    ///< "bot", "waiting_for_coach", "coach"
  std::optional<std::string> triage_level;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

/// An escalation a coach must look at.
struct EscalationRecord {
  std::int64_t id = 0;
  std::int64_t conversation_id = 0;
  std::string level;                 ///< triage level name, or "not_pain" when the runner asked for a human
  nlohmann::json flags = nlohmann::json::array();
  nlohmann::json evidence = nlohmann::json::array();
  std::string reason;                ///< "red_flag" or "runner_request"
  std::string status = "open";       ///< "open", "claimed", "closed"
  std::optional<std::string> claimed_by;
  std::int64_t created_at_ms = 0;
  std::optional<std::int64_t> claimed_at_ms;
  std::optional<std::int64_t> closed_at_ms;
};

/// Storage seam: every SQL statement and transaction lives behind it, so that a PostgreSQL backend can replace
/// the embedded SQLite one. Methods other than InTransaction must be called inside InTransaction's callback
/// (one unit of work = one transaction). Implementations throw StoreError on infrastructure failure.
class ConversationStore {
 public:
  virtual ~ConversationStore() = default;

  /// Runs `work` in one write transaction: committed when it returns, rolled back when it throws.
  virtual void InTransaction(const std::function<void()>& work) = 0;

  virtual std::optional<ConversationRecord> FindConversation(const std::string& channel,
                                                             const std::string& external_id) = 0;
  virtual std::optional<ConversationRecord> GetConversation(std::int64_t conversation_id) = 0;
  /// Inserts (id = 0) or updates the row; returns the id.
  virtual std::int64_t SaveConversation(const ConversationRecord& conversation) = 0;
  /// Erases the conversation and everything that belongs to it (right to be forgotten).
  virtual void DeleteConversation(std::int64_t conversation_id) = 0;

  /// Appends a transcript line; returns its id.
  virtual std::int64_t AppendMessage(const MessageRecord& message) = 0;
  /// A runner message already stored under this client message id, if any.
  virtual std::optional<MessageRecord> FindByClientMessageId(std::int64_t conversation_id,
                                                             const std::string& client_message_id) = 0;
  /// Messages with id > after_id, oldest first, at most `limit`.
  virtual std::vector<MessageRecord> MessagesAfter(std::int64_t conversation_id, std::int64_t after_id,
                                                   int limit) = 0;
  /// The bot replies stored in answer to one runner message (the ones right after it, until the next user line).
  virtual std::vector<MessageRecord> RepliesTo(std::int64_t conversation_id, std::int64_t user_message_id) = 0;

  virtual std::int64_t OpenEscalation(const EscalationRecord& escalation) = 0;
  virtual void UpdateEscalation(const EscalationRecord& escalation) = 0;
  virtual std::vector<EscalationRecord> EscalationsFor(std::int64_t conversation_id) = 0;
  /// Open and claimed escalations, most urgent level first, then oldest first.
  virtual std::vector<EscalationRecord> EscalationQueue() = 0;

  virtual void RecordUnansweredQuestion(const std::string& question, std::int64_t conversation_id) = 0;
  /// Audit trail: what happened (event name) and details, never message text.
  virtual void Audit(std::int64_t conversation_id, const std::string& event, const nlohmann::json& details) = 0;
};

/// An infrastructure failure in a store (disk full, database locked too long, corrupt file).
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace coach::bot
