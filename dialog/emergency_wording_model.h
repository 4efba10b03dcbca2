#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace coach::dialog {

/// A message as the wording model reads it: its clauses, each a list of folded words; a word inside a negation
/// scope carries the prefix `NEG_` ("no numbness" -> {"no", "NEG_numbness"}). RedFlagDetector::MarkClauses
/// makes them, so the model and the rules agree on what is denied.
using MarkedClauses = std::vector<std::vector<std::string>>;

/// One labelled message for training.
struct WordingExample {
  MarkedClauses clauses;
  bool emergency = false;
};

/// A second opinion on emergency wording that does not depend on word lists: logistic regression over word
/// unigrams and bigrams (within a clause) and character 3-5-grams of each word (typos: "numbnes"), all carrying
/// the negation mark. Trained offline on the labelled sets (tool `coach_train_wording_model`), stored as text
/// ("feature<TAB>weight" lines) and compiled in like the rules. The detector uses it only to RAISE a decision.
class EmergencyWordingModel {
 public:
  struct TrainingOptions {
    int epochs = 30;
    double learning_rate = 0.5;
    double l2 = 1e-3;
    int min_feature_count = 2;  ///< a feature seen in fewer training messages is dropped (noise, file size)
    std::uint32_t seed = 20261129;
  };

  /// No weights: every message scores p = 0.5, below the default threshold of 1.
  EmergencyWordingModel() = default;

  /// Deterministic for a given example order and options.
  static EmergencyWordingModel Train(const std::vector<WordingExample>& examples, const TrainingOptions& options);
  /// Reads ToText()'s format; throws std::invalid_argument on a malformed line.
  static EmergencyWordingModel FromText(std::string_view text);
  /// Header line (threshold, bias), then one "feature<TAB>weight" line per feature with |weight| >= min_weight.
  std::string ToText(double min_weight = 0.0) const;

  /// Probability that the message is an emergency.
  double Probability(const MarkedClauses& clauses) const;
  /// The clause whose features push hardest towards emergency (for the evidence); 0 when there are no clauses.
  std::size_t StrongestClause(const MarkedClauses& clauses) const;

  /// The decision threshold stored with the weights (tuned on leave-one-set-out predictions, docs/triage.md).
  double threshold() const { return threshold_; }
  void set_threshold(double threshold) { threshold_ = threshold; }
  std::size_t feature_count() const { return weights_.size(); }

 private:
  double ClauseSum(const std::vector<std::string>& clause, std::size_t* feature_count) const;

  double bias_ = 0.0;
  double threshold_ = 1.0;
  std::unordered_map<std::uint64_t, float> weights_;      // keyed by the feature's 64-bit FNV-1a hash
  std::unordered_map<std::uint64_t, std::string> names_;  // only for a trained model, for ToText
};

}  // namespace coach::dialog
