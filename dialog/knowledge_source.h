#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coach::dialog {

/// A confident answer to a free question.
struct KnowledgeAnswer {
  std::string topic_id;  ///< content topic id ("shoes")
  std::string title;
  std::string text;  ///< chat-ready plain text, a few short paragraphs at most
  double score = 0;  ///< the index's confidence, for logs and tests
};

/// What the dialog knows about the runner when it hands out a plan.
struct PlanRequest {
  std::string runner_type;  ///< "beginner", "distance", "older_returning", "other" or empty
  std::optional<int> pain_score;
  bool pain_rises_after_running = false;
  int week = 1;  ///< 1 = the recovery week, 2 = the progression
};

/// The dialog's window on the coaching content (implemented by coach::knowledge). Kept here, as an interface,
/// so that the dialog never depends on the index or its storage.
class KnowledgeSource {
 public:
  virtual ~KnowledgeSource() = default;
  /// A confident answer, or nullopt when the best match is below the confidence threshold.
  virtual std::optional<KnowledgeAnswer> Answer(std::string_view question) const = 0;
  /// The plan that fits the request, rendered as short chat messages (a compact week or one per day).
  virtual std::vector<std::string> Plan(const PlanRequest& request) const = 0;
};

}  // namespace coach::dialog
