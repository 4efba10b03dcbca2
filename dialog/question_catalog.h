#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dialog/reply.h"
#include "dialog/triage_level.h"

namespace coach::dialog {

/// How an answer to a question is read.
enum class AnswerType {
  choice,          ///< one of the quick replies (by label, value or a keyword); nothing else
  choice_or_text,  ///< a quick reply, or any short description in the runner's words
  yes_no,          ///< yes / no in the common ways of saying them (a few languages)
  pain_score,      ///< a number from 0 to 10 ("5", "5/10", "about a 6"), or a quick reply
};

/// A screening answer that is itself a red flag: the level it means and the flag id it records.
struct ScreeningOutcome {
  std::string value;  ///< the answer value ("yes", "fast")
  TriageLevel level;
  std::string flag;
};

/// One question the dialog can ask. The phase is the machine state that asks it.
struct Question {
  std::string id;
  std::string phase;  ///< state key
  std::string text;
  std::vector<QuickReply> options;
  AnswerType type = AnswerType::choice;
  std::vector<ScreeningOutcome> red_flags;  ///< screening questions only
  /// Words that pick an option when the runner types instead of tapping: {value, keywords...}; Questions() holds
  /// the keywords normalized (lower case, punctuation gone), as ReadAnswer matches them.
  std::vector<std::vector<std::string>> keywords;
  /// Each option's value and label, normalized, in option order (filled by Questions(); ReadAnswer normalizes the
  /// options itself for a question built elsewhere).
  std::vector<std::pair<std::string, std::string>> normalized_options;
};

/// The fixed catalogue of questions, in the order each phase asks them. Red-flag screening comes first and
/// asks the gravest questions first (cauda equina signs, then trauma and chest pain, then urgent signs).
const std::vector<Question>& Questions();
const Question* FindQuestion(std::string_view id);
/// The questions of one phase, in order.
std::vector<const Question*> QuestionsOf(std::string_view phase);

/// A runner message as the readers below see it, made once per turn: every reader of a turn asks about the same
/// words, so they are folded and split once.
struct RunnerText {
  explicit RunnerText(std::string_view raw);
  std::string text;                ///< as typed
  std::vector<std::string> words;  ///< lower-cased words (letters, digits, apostrophes): "No!!" reads as "no"
  std::string normalized;          ///< the words joined by single spaces
};

/// Reads the runner's text as an answer to `question`: the normalized value, or nullopt when it is not one.
std::optional<std::string> ReadAnswer(const Question& question, const RunnerText& text);
std::optional<std::string> ReadAnswer(const Question& question, std::string_view text);

/// True when the text reads as a question ("can I run?", "how long does it take") rather than an answer.
bool LooksLikeQuestion(const RunnerText& text);
bool LooksLikeQuestion(std::string_view text);

/// Global commands, whatever the state.
bool IsRestartCommand(const RunnerText& text);
bool IsRestartCommand(std::string_view text);
bool IsCoachRequest(const RunnerText& text);
bool IsCoachRequest(std::string_view text);

}  // namespace coach::dialog
