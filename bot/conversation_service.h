#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/conversation_store.h"
#include "dialog/triage_conversation.h"

namespace coach::bot {

/// A runner's message as any channel hands it over.
struct InboundMessage {
  std::string channel;            ///< "web", "telegram"
  std::string external_id;        ///< the channel's id for the runner's conversation
  std::string text;               ///< typed text or a quick reply's value; any bytes (cleaned before use)
  std::string client_message_id;  ///< idempotency key; the same id twice returns the first replies; empty = none
  /// Telegram-style channels start a conversation with the first message. Web sessions are created explicitly
  /// (with a token), so a message for a session erased meanwhile must not bring it back without one.
  bool create_if_missing = true;
};

/// What a channel needs to answer the runner.
struct InboundResult {
  std::int64_t conversation_id = 0;
  std::int64_t user_message_id = 0;
  std::vector<MessageRecord> replies;
  std::string status;      ///< "bot", "waiting_for_coach", "coach"
  bool duplicate = false;  ///< the client message id was seen before (or the conversation existed): nothing changed
  std::string state_key;   ///< the dialog state after the turn
  std::optional<std::string> triage_level;  ///< the most urgent level reached so far
  bool not_found = false;             ///< no such conversation and create_if_missing was false: nothing was stored
  bool triage_level_changed = false;  ///< this turn raised the conversation's most urgent level
};

/// What never changes about a conversation while it exists: enough to admit a request and address it.
struct ConversationIdentity {
  std::int64_t id = 0;
  std::string access_token_hash;  ///< empty for conversations stored without a token
};

/// The channel-agnostic conversation service (userver's "pure logic" half; adapters are the HTTP shell).
/// One inbound message = load conversation, red-flag detector + dialog (under the conversation's own lock, so
/// different conversations compute in parallel), then user message, replies, new state, escalation and
/// unanswered question in one write transaction, then answer. Turns of one conversation run strictly one after
/// another. An answer exists only after its transaction committed.
/// Thread-safe. Expected outcomes are values; StoreError (infrastructure; ConcurrentUpdateError when another
/// process saved the conversation mid-turn, safe to retry) and dialog exceptions propagate, with nothing stored.
class ConversationService {
 public:
  ConversationService(ConversationStore& store, const dialog::DialogDependencies& dialog);
  ~ConversationService();

  /// Creates the conversation (if new) and stores the greeting; returns the greeting replies. For an existing
  /// conversation nothing changes: duplicate=true and the stored greeting lines are returned.
  InboundResult StartConversation(const std::string& channel, const std::string& external_id);
  /// The same, storing `access_token_hash` (a hash of the session's bearer token) for VerifyAccessToken.
  InboundResult StartConversation(const std::string& channel, const std::string& external_id,
                                  const std::string& access_token_hash);
  /// The conversation's id and token hash, from memory after the first lookup (a request's token check costs no
  /// read). An erase by this process is seen at once; one by another process by the next turn's save (which then
  /// finds nothing) and by reads, which find no rows.
  std::optional<ConversationIdentity> FindIdentity(const std::string& channel, const std::string& external_id);
  /// True when the conversation exists and its stored token hash equals `access_token_hash` (constant time;
  /// false for conversations stored without one).
  bool VerifyAccessToken(const std::string& channel, const std::string& external_id,
                         const std::string& access_token_hash);

  /// One runner message. An unknown conversation is created first: its greeting is part of the replies.
  InboundResult HandleInbound(const InboundMessage& message);

  std::optional<ConversationRecord> FindConversation(const std::string& channel, const std::string& external_id);
  /// FindConversation without the slots (an empty object): what a token check or a route needs, at a fraction
  /// of the cost (the slots JSON is not parsed).
  std::optional<ConversationRecord> FindConversationHeader(const std::string& channel, const std::string& external_id);
  std::vector<MessageRecord> Transcript(std::int64_t conversation_id, std::int64_t after_id, int limit = 500);
  /// Blocks until a message with id > after_id exists, the timeout passes or StopWaiting() is called (Server-Sent
  /// Events use it); returns the new messages, or nothing.
  std::vector<MessageRecord> WaitForMessages(std::int64_t conversation_id, std::int64_t after_id,
                                             std::chrono::milliseconds timeout);
  /// Wakes every WaitForMessages now and makes later calls return at once (graceful shutdown).
  void StopWaiting();

  /// A coach's message, delivered on the runner's own channel (stored, then pushed to waiting readers). A coach
  /// writing into a conversation takes it over: the dialog moves to "coach" (the bot stays quiet) and its open
  /// escalations become claimed by `coach_name`. Throws std::invalid_argument for an unknown conversation.
  MessageRecord PostCoachMessage(std::int64_t conversation_id, const std::string& coach_name, const std::string& text);
  /// The coach hands the conversation back to the bot; claimed escalations are closed. Returns the bot's lines
  /// (empty when no coach was talking). Throws std::invalid_argument for an unknown conversation.
  std::vector<MessageRecord> HandBackToBot(std::int64_t conversation_id);
  /// Everything stored about one conversation (row, transcript, escalations, unanswered questions, coach
  /// notes), for the runner's export; null JSON for an unknown conversation. Never includes the token hash.
  nlohmann::json Export(std::int64_t conversation_id);
  /// Erases the conversation and everything attached to it; the audit log records that it happened (no personal
  /// data). Returns false when there was nothing to erase.
  bool Erase(std::int64_t conversation_id);

  /// Open and claimed escalations, most urgent first (the coach queue).
  std::vector<EscalationRecord> EscalationQueue();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace coach::bot
