#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dialog/emergency_wording_model.h"
#include "dialog/triage_level.h"

namespace coach::dialog {

/// What the detector concluded about one message, with the reasons a coach and the audit log need.
struct TriageDecision {
  TriageLevel level = TriageLevel::not_pain;
  std::vector<std::string> flags;     ///< ids of the red flags that fired ("saddle_numbness"), most urgent first
  std::vector<std::string> evidence;  ///< the phrases of the message that fired them, same order as `flags`
  std::optional<int> pain_score;      ///< a 0-10 score written in the message ("5/10", "2 out of 10")
};

/// How a detector is put together beyond its rules.
struct DetectorOptions {
  /// The learned second opinion: raises a symptom message to emergency when its probability reaches the model's
  /// threshold (never lowers a rule decision). None: rules only.
  std::optional<EmergencyWordingModel> wording_model;
  /// One RE2::Set pass over the message for the literal strings each flag needs (re2::FilteredRE2 atoms) picks the
  /// flags that can match at all; off only to prove that it changes no decision.
  bool prefilter = true;
};

/// Finds red flags in one runner message: rules and word lists are data (dialog/red_flag_rules.json, compiled
/// into the binary), matched with RE2 (linear time, no catastrophic backtracking on hostile input).
/// Negation-aware ("no numbness" is not a flag), one leg vs both legs, informal wording, typos, a few words of
/// Spanish, German and Hindi-English for the gravest flags. Instructions inside the message change nothing.
/// Thread-safe after construction: Assess is const and RE2 objects are safe to share.
class RedFlagDetector {
 public:
  /// Built from the rules and the wording model compiled into the binary.
  static const RedFlagDetector& Default();
  /// Built from a rules document; throws std::invalid_argument naming the rule that is malformed.
  static RedFlagDetector FromRulesJson(std::string_view rules_json, DetectorOptions options = {});
  /// The same rules with another wording model (none: rules only), without compiling the rules again.
  RedFlagDetector WithWordingModel(std::optional<EmergencyWordingModel> model) &&;
  /// The rules document compiled into the binary (dialog/red_flag_rules.json).
  static std::string_view EmbeddedRulesJson();
  /// The wording model compiled into the binary (dialog/emergency_wording_model.txt).
  static std::string_view EmbeddedWordingModelText();

  RedFlagDetector(RedFlagDetector&&) noexcept;
  RedFlagDetector& operator=(RedFlagDetector&&) noexcept;
  ~RedFlagDetector();

  /// Any text is accepted (empty, huge, invalid UTF-8): the worst outcome is `not_pain`.
  TriageDecision Assess(std::string_view message) const;
  /// The message's clauses and words as the rules read them, words in a negation scope marked `NEG_`: the input
  /// of the wording model, for training it on exactly what it will see.
  MarkedClauses MarkClauses(std::string_view message) const;

 private:
  struct Rules;
  explicit RedFlagDetector(std::unique_ptr<Rules> rules);
  std::unique_ptr<Rules> rules_;
};

}  // namespace coach::dialog
