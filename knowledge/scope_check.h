#pragma once

#include <string>
#include <vector>

namespace coach::knowledge {

/// Whether a question is about a body part the coaching content does not cover. The content is about the lower
/// back; a question that names a knee, shin or neck and nothing of the back, spine, hips, glutes or core is
/// another injury, and a confident back answer to it would mislead. BM25 alone cannot tell: "knee pain when I run"
/// shares "pain" and "run" with every topic.
class ScopeCheck {
 public:
  /// `words`: the question's lower-cased words (QueryBuilder::Words).
  static bool AboutOtherBodyPartOnly(const std::vector<std::string>& words);
  static bool IsOtherBodyPart(const std::string& word);
  static bool IsBackWord(const std::string& word);
};

}  // namespace coach::knowledge
