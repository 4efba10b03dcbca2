#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace coach::bot {

/// Who wrote a transcript line.
enum class Author { user, bot, coach, system };
/// The stable wire and database name ("user", "bot", "coach", "system").
std::string ToString(Author author);
/// Inverse of ToString; nullopt for an unknown name.
std::optional<Author> ParseAuthor(const std::string& name);

/// One line of a transcript as stored.
struct MessageRecord {
  std::int64_t id = 0;  ///< increases with every message in the whole store: SSE event ids and `after=` use it
  std::int64_t conversation_id = 0;
  Author author = Author::user;
  std::string text;
  nlohmann::json quick_replies = nlohmann::json::array();  ///< [{"label":..,"value":..}]
  std::string kind = "normal";                             ///< dialog::ReplyKind name, for styling
  std::optional<std::string> client_message_id;            ///< runner messages only: the idempotency key
  /// The runner message this line answers (bot replies of one turn); duplicates replay exactly these.
  std::optional<std::int64_t> in_reply_to;
  std::int64_t created_at_ms = 0;  ///< 0 on insert means "now"
  /// Runner lines with a symptom: the red-flag decision `{"level": ..., "flags": [...]}` (null otherwise), for
  /// the coach and the audit; kept on the line so that erasing the transcript erases it too.
  nlohmann::json triage;
  /// `quick_replies` already serialized (DumpJsonText), made before the write transaction so that the group commit,
  /// which runs every queued turn's writes one after another, does not spend its time on JSON; unset: the store
  /// serializes `quick_replies` itself. Must match `quick_replies` when set.
  std::optional<std::string> quick_replies_text;
};

/// A conversation's row: who it is with, where the dialog stands, and who is answering.
struct ConversationRecord {
  std::int64_t id = 0;
  std::string channel;      ///< "web", "telegram"
  std::string external_id;  ///< web session id, Telegram chat id
  std::string state_key;    ///< dialog state key
  nlohmann::json slots = nlohmann::json::object();
  std::string status = "bot";  ///< "bot", "waiting_for_coach", "coach"
  std::optional<std::string> triage_level;
  /// Web sessions: a hash of the bearer token (never the token itself); empty for channels without tokens.
  std::string access_token_hash;
  std::int64_t created_at_ms = 0;  ///< 0 on insert means "now"
  std::int64_t updated_at_ms = 0;  ///< set by the store on every save
  /// Optimistic concurrency: the revision this copy was read at; a save succeeds only if the row is still at it
  /// (and moves it on), so a turn computed from a stale read can never overwrite a newer state.
  std::int64_t revision = 0;
  /// `slots` already serialized (DumpJsonText), made before the write transaction for the same reason as
  /// MessageRecord::quick_replies_text; unset: the store serializes `slots`. Must match `slots` when set.
  std::optional<std::string> slots_text;
};

/// An escalation a coach must look at.
struct EscalationRecord {
  std::int64_t id = 0;
  std::int64_t conversation_id = 0;
  std::string level;  ///< triage level name, or "not_pain" when the runner asked for a human
  nlohmann::json flags = nlohmann::json::array();
  nlohmann::json evidence = nlohmann::json::array();
  std::string reason;           ///< "red_flag" or "runner_request"
  std::string status = "open";  ///< "open", "claimed", "closed"
  std::optional<std::string> claimed_by;
  std::int64_t created_at_ms = 0;  ///< 0 on insert means "now"
  std::optional<std::int64_t> claimed_at_ms;
  std::optional<std::int64_t> closed_at_ms;
};

/// A question the content could not answer, kept for content authors.
struct UnansweredQuestionRecord {
  std::int64_t id = 0;
  std::int64_t conversation_id = 0;
  std::string question;
  std::int64_t created_at_ms = 0;
};

/// A coach's private note on a conversation: never shown to the runner, but part of the runner's export.
struct CoachNoteRecord {
  std::int64_t id = 0;
  std::int64_t conversation_id = 0;
  std::string coach_name;
  std::string text;
  std::int64_t created_at_ms = 0;  ///< 0 on insert means "now"
};

/// One audit trail entry: what happened, never what anybody wrote.
struct AuditRecord {
  std::int64_t id = 0;
  std::int64_t conversation_id = 0;
  std::string event;
  nlohmann::json details = nlohmann::json::object();
  std::int64_t created_at_ms = 0;
};

/// The gauges /metrics publishes, read in one consistent snapshot.
struct StoreMetrics {
  std::map<std::string, std::int64_t> conversations_by_state;     ///< state key -> conversations
  std::map<std::string, std::int64_t> conversations_by_status;    ///< "bot", "waiting_for_coach", "coach"
  std::map<std::string, std::int64_t> conversations_by_level;     ///< triage level (assessed ones only)
  std::map<std::string, std::int64_t> open_escalations_by_level;  ///< status "open" or "claimed"
};

/// Storage seam: every SQL statement and transaction lives behind it, so that a PostgreSQL backend can replace
/// the embedded SQLite one. A unit of work that writes runs inside InTransaction's callback; a method called
/// outside any transaction runs as its own single-statement unit (fine for reads). Implementations throw
/// StoreError on infrastructure failure.
class ConversationStore {
 public:
  virtual ~ConversationStore() = default;

  /// Runs `work` in one write transaction: committed when it returns, rolled back when it throws.
  /// Nested calls on the same thread form a savepoint inside the outer transaction.
  virtual void InTransaction(const std::function<void()>& work) = 0;

  virtual std::optional<ConversationRecord> FindConversation(const std::string& channel,
                                                             const std::string& external_id) = 0;
  virtual std::optional<ConversationRecord> GetConversation(std::int64_t conversation_id) = 0;
  /// FindConversation without the slots (left an empty object): for token checks and routing, which never need
  /// the dialog's state, so a request does not parse the slots JSON just to be admitted.
  virtual std::optional<ConversationRecord> FindConversationHeader(const std::string& channel,
                                                                   const std::string& external_id) = 0;
  /// Inserts (id = 0) or updates the row; returns the id. An update throws ConcurrentUpdateError when the row
  /// is no longer at `conversation.revision` with `conversation.created_at_ms` (another writer saved it since it
  /// was read, or erased it, or erased it and created another under the same id).
  virtual std::int64_t SaveConversation(const ConversationRecord& conversation) = 0;
  /// Erases the conversation and everything that belongs to it (right to be forgotten).
  virtual void DeleteConversation(std::int64_t conversation_id) = 0;

  /// Appends a transcript line; returns its id. Throws DuplicateClientMessageError when the line's client message
  /// id is already stored for the conversation.
  virtual std::int64_t AppendMessage(const MessageRecord& message) = 0;
  /// Appends several lines in the given order (one statement where the backend allows); returns their ids, in
  /// the same order. Same result as AppendMessage one by one, cheaper per line.
  virtual std::vector<std::int64_t> AppendMessages(const std::vector<MessageRecord>& messages) = 0;
  /// A runner message already stored under this client message id, if any.
  virtual std::optional<MessageRecord> FindByClientMessageId(std::int64_t conversation_id,
                                                             const std::string& client_message_id) = 0;
  /// Messages with id > after_id, oldest first, at most `limit`.
  virtual std::vector<MessageRecord> MessagesAfter(std::int64_t conversation_id, std::int64_t after_id, int limit) = 0;
  /// The replies stored in answer to one runner message (in_reply_to = user_message_id), oldest first.
  virtual std::vector<MessageRecord> RepliesTo(std::int64_t conversation_id, std::int64_t user_message_id) = 0;

  virtual std::int64_t OpenEscalation(const EscalationRecord& escalation) = 0;
  virtual void UpdateEscalation(const EscalationRecord& escalation) = 0;
  virtual std::vector<EscalationRecord> EscalationsFor(std::int64_t conversation_id) = 0;
  /// Open and claimed escalations, most urgent level first, then oldest first.
  virtual std::vector<EscalationRecord> EscalationQueue() = 0;

  virtual void RecordUnansweredQuestion(const std::string& question, std::int64_t conversation_id) = 0;
  virtual std::vector<UnansweredQuestionRecord> UnansweredQuestionsFor(std::int64_t conversation_id) = 0;
  /// The most recent unanswered questions of all conversations, newest first (for content authors).
  virtual std::vector<UnansweredQuestionRecord> RecentUnansweredQuestions(int limit) = 0;

  virtual std::int64_t AddCoachNote(const CoachNoteRecord& note) = 0;
  virtual std::vector<CoachNoteRecord> CoachNotesFor(std::int64_t conversation_id) = 0;

  /// Audit trail: what happened (event name) and details, never message text.
  virtual void Audit(std::int64_t conversation_id, const std::string& event, const nlohmann::json& details) = 0;
  /// The audit trail of one conversation, oldest first (kept after the conversation is erased).
  virtual std::vector<AuditRecord> AuditTrail(std::int64_t conversation_id) = 0;

  /// Gauges for /metrics.
  virtual StoreMetrics Metrics() = 0;
  /// True when the database answers a trivial query (/readyz); never throws.
  virtual bool Ping() noexcept = 0;
};

/// An infrastructure failure in a store (disk full, database locked too long, corrupt file). The message names
/// the operation and carries the database's own message.
class StoreError : public std::runtime_error {
 public:
  explicit StoreError(const std::string& message, int code = 0) : std::runtime_error(message), code_(code) {}
  /// The backend's error code (SQLite extended result code), 0 when there is none.
  int code() const noexcept { return code_; }

 private:
  int code_ = 0;
};

/// The database was written by a newer build (its schema version is above the latest this build knows):
/// refusing to start beats silently corrupting it.
class SchemaTooNewError : public StoreError {
 public:
  using StoreError::StoreError;
};

/// A conversation was saved from a stale read: someone else changed (or erased) it in between. Retrying the turn
/// from a fresh read is safe.
class ConcurrentUpdateError : public StoreError {
 public:
  using StoreError::StoreError;
};

/// A runner line's client message id is already stored for its conversation: the message is a replay, and the
/// unit of work that tried to store it again must not commit.
class DuplicateClientMessageError : public StoreError {
 public:
  using StoreError::StoreError;
};

}  // namespace coach::bot
