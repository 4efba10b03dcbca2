#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/conversation_store.h"
#include "dialog/triage_conversation.h"

namespace coach::bot {

/// A runner's message as any channel hands it over.
struct InboundMessage {
  std::string channel;            ///< "web", "telegram"
  std::string external_id;        ///< the channel's id for the runner's conversation
  std::string text;               ///< typed text or a quick reply's value
  std::string client_message_id;  ///< idempotency key; the same id twice returns the first replies
};

/// What a channel needs to answer the runner.
struct InboundResult {
  std::int64_t conversation_id = 0;
  std::int64_t user_message_id = 0;
  std::vector<MessageRecord> replies;
  std::string status;      ///< "bot", "waiting_for_coach", "coach"
  bool duplicate = false;  ///< the client message id was seen before: nothing changed
};

/// The channel-agnostic conversation service (userver's "pure logic" half; adapters are the HTTP shell).
/// One inbound message = load conversation, red-flag detector + dialog, store user message, replies, new state
/// and escalation in one transaction, then answer. Turns of one conversation run strictly one after another;
/// different conversations run in parallel. Thread-safe.
class ConversationService {
 public:
  ConversationService(ConversationStore& store, const dialog::DialogDependencies& dialog);
  ~ConversationService();

  /// Creates the conversation (if new) and stores the greeting; returns the greeting replies.
  InboundResult StartConversation(const std::string& channel, const std::string& external_id);
  InboundResult HandleInbound(const InboundMessage& message);

  std::optional<ConversationRecord> FindConversation(const std::string& channel, const std::string& external_id);
  std::vector<MessageRecord> Transcript(std::int64_t conversation_id, std::int64_t after_id, int limit = 500);
  /// Blocks until a message with id > after_id exists or the timeout passes (Server-Sent Events use it).
  std::vector<MessageRecord> WaitForMessages(std::int64_t conversation_id, std::int64_t after_id,
                                             std::chrono::milliseconds timeout);

  /// A coach's message, delivered on the runner's own channel (stored, then pushed to waiting readers).
  MessageRecord PostCoachMessage(std::int64_t conversation_id, const std::string& coach_name,
                                 const std::string& text);
  /// Everything stored about one conversation (transcript, escalations), for the runner's export.
  nlohmann::json Export(std::int64_t conversation_id);
  /// Erases the conversation and everything attached to it.
  void Erase(std::int64_t conversation_id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace coach::bot
