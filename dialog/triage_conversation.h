#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dialog/knowledge_source.h"
#include "dialog/red_flag_detector.h"
#include "dialog/reply.h"
#include "dialog/triage_level.h"

namespace coach::dialog {

/// What a conversation is, persisted: a stable state key ("pain", "waiting_for_coach") plus the slots
/// (answers so far, the current question, the triage level) as JSON. Never an MSM state id, which changes
/// whenever the transition table does.
struct ConversationSnapshot {
  std::string state_key;
  nlohmann::json slots = nlohmann::json::object();
};

/// Set when a turn calls a coach in (a red flag, or the runner asked for a human).
struct EscalationRequest {
  TriageLevel level = TriageLevel::not_pain;  ///< not_pain when the runner simply asked for a coach
  std::vector<std::string> flags;
  std::vector<std::string> evidence;
  std::string reason;  ///< "red_flag" or "runner_request"
};

/// The outcome of one turn.
struct TurnResult {
  std::vector<Reply> replies;                      ///< may be empty (a coach is talking)
  std::optional<TriageDecision> decision;          ///< the red-flag detector's view of the runner's message
  std::optional<EscalationRequest> escalation;     ///< a coach must be called in
  std::optional<std::string> unanswered_question;  ///< a question the content could not answer confidently
};

/// Conversation status as channels show it.
enum class ConversationStatus { bot, waiting_for_coach, coach };
std::string_view ToString(ConversationStatus status);

/// Settings the dialog's wording depends on.
struct DialogSettings {
  /// Named in emergency replies; the default names the common numbers so a runner anywhere knows what to call.
  std::string emergency_number = "999, 911 or 112";
};

/// Everything a conversation needs that outlives it; shared and read-only, so safe across threads.
struct DialogDependencies {
  const RedFlagDetector& detector;
  const KnowledgeSource& knowledge;
  DialogSettings settings;
};

/// The "chat with a coach" conversation: a Boost.MSM machine (dialog/triage_conversation.cpp) behind a plain
/// API. One object per request: build it from a snapshot, feed it one event, save Snapshot(). Every runner
/// message passes the red-flag detector before the machine sees it, whatever the state.
/// Not thread-safe; callers serialize the turns of one conversation.
class TriageConversation {
 public:
  /// A new conversation at the greeting; Greet() gives its first replies.
  explicit TriageConversation(const DialogDependencies& deps);
  /// Continues exactly where the snapshot left off (no entry action re-runs). A state key this build does not
  /// know restarts politely: the next turn's replies say so.
  /// Taken by value: a caller done with its snapshot moves it in, and the slots are not copied.
  TriageConversation(const DialogDependencies& deps, ConversationSnapshot snapshot);
  TriageConversation(TriageConversation&&) noexcept;
  TriageConversation& operator=(TriageConversation&&) noexcept;
  ~TriageConversation();

  /// The greeting: a short "not medical advice" note and the first quick replies.
  TurnResult Greet();
  /// One runner message (text, or a quick reply's label or value). Any bytes are accepted.
  TurnResult HandleMessage(std::string_view text);
  /// A coach claimed the conversation: the bot steps aside until HandBack.
  TurnResult CoachJoined(std::string_view coach_name);
  /// The coach hands the conversation back to the bot.
  TurnResult HandBack();
  /// Back to the greeting, answers forgotten (escalation records elsewhere are kept).
  TurnResult Restart();

  ConversationSnapshot Snapshot() const&;
  /// The same for a conversation's last use: the slots are moved out, not copied (the object is only fit for
  /// destruction afterwards).
  ConversationSnapshot Snapshot() &&;
  const std::string& StateKey() const;
  ConversationStatus Status() const;
  /// The most urgent level the conversation has reached; nullopt until something was assessed.
  std::optional<TriageLevel> Level() const;
  /// True when the snapshot's state key was unknown and the conversation restarted.
  bool WasReset() const;

 private:
  struct Machine;
  std::unique_ptr<Machine> machine_;
};

}  // namespace coach::dialog
