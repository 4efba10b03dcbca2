#pragma once

#include <string>
#include <vector>

namespace coach::knowledge {

/// Whether a question is about a body part the coaching content does not cover. The content is about the lower
/// back; a question that names a knee, shin or neck and nothing of the back, spine, hips, glutes or core is
/// another injury, and a confident back answer to it would mislead. BM25 alone cannot tell: "knee pain when I run"
/// shares "pain" and "run" with every topic. The same holds for a foot that hurts, and for running subjects the
/// content does not cover (food, race speed, weather, accounts).
class ScopeCheck {
 public:
  /// `words`: the question's lower-cased words (QueryBuilder::Words).
  static bool AboutOtherBodyPartOnly(const std::vector<std::string>& words);
  /// Whether a question names a running subject the content does not cover (food and drink, race speed, weather,
  /// kit other than shoes, accounts and payments) and nothing of the back. Such questions share "run", "race" or
  /// "marathon" with several topics, and their subject word alone cannot outweigh that in the coverage.
  static bool AboutOtherSubjectOnly(const std::vector<std::string>& words);
  /// Whether a question is about racing, race performance or sleep before a race ("a good 5k time for a 40 year old",
  /// "hours of sleep for marathoners", "back-to-back half marathons") and names no back, pain, injury or healing
  /// word and none of the content's practices (warm-up, stretches, core work, foam rolling, a brace): the distance,
  /// healing and older-runner topics share "marathon", "sleep" and ages with such questions, and would answer them
  /// confidently about back pain the runner never mentioned.
  static bool AboutRacingOnly(const std::vector<std::string>& words);
  /// Whether a message is a greeting or small talk and nothing else ("Good morning! How are you today?"): "morning"
  /// alone matches the topics that talk about morning stiffness.
  static bool SmallTalkOnly(const std::vector<std::string>& words);
  /// Whether any word puts the question in the content's scope (IsBackWord), except "back" in "back to back"
  /// (one after the other).
  static bool NamesTheBack(const std::vector<std::string>& words);
  static bool IsOtherSubject(const std::string& word);
  /// The other subjects' words and two-word phrases, so that a test can prove none of them is in the content.
  static std::vector<std::string> OtherSubjectWords();
  static bool IsOtherBodyPart(const std::string& word);
  /// Pain that runs "down my leg" (to the knee or calf) is the sciatica pattern, a back symptom whatever else it
  /// names.
  static bool SpreadsDownALeg(const std::vector<std::string>& words);
  static bool IsBackWord(const std::string& word);
};

}  // namespace coach::knowledge
