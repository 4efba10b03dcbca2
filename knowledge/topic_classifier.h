#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "knowledge/content.h"
#include "knowledge/query_builder.h"

namespace coach::knowledge {

/// A second opinion on WHICH topic a question is about, learned from the topics' example questions: multinomial
/// (softmax) logistic regression over the question's words after the index's own normalisation (text speak, synonym
/// concept tokens, typo corrections), word bigrams and character 3-5-grams of the typed words. BM25 scores a topic
/// by the rare words it shares with the question; the classifier also learns which everyday words ("how long",
/// "worth it", "what happens if") go with which topic, which is where BM25 lost to other authors' wording.
/// Trained at index build (well under a second), deterministically; immutable afterwards.
class TopicClassifier {
 public:
  /// Picked by the classifier's own log-loss on five-fold leave-questions-out (epochs 30/50/100, l2 1e-3 to 3e-2,
  /// content weight 0.3 or 1; "[mix-dump]" with the COACH_CLASSIFIER_* variables): the least regularised won.
  struct TrainingOptions {
    int epochs = 100;
    double learning_rate = 0.5;
    double l2 = 1e-3;  ///< applied to the features of each example as it is seen
    /// Weight of an example made from the content itself (title, tags, summary, a body sentence) relative to an
    /// example question: the content's sentences teach the topic's vocabulary; 1 beat 0.3 on leave-out log-loss.
    double content_example_weight = 1.0;
    std::uint64_t seed = 20261130;
  };

  /// Trains on every topic's example questions (and, weaker, its title, tags, summary and body sentences).
  /// `query_builder` and `text_speak` must outlive the classifier: questions are normalised as the index does.
  TopicClassifier(const Content& content, const QueryBuilder& query_builder, const TextSpeak& text_speak,
                  const TrainingOptions& options);
  TopicClassifier(const Content& content, const QueryBuilder& query_builder, const TextSpeak& text_speak);

  /// P(topic | question) for every topic, in the content's topic order; uniform when no feature is known.
  std::vector<double> Probabilities(std::string_view question) const;
  const std::vector<std::string>& topic_ids() const { return topic_ids_; }
  std::size_t feature_count() const { return feature_count_; }

  /// The feature hashes of a question (for tests: deterministic, duplicates removed).
  std::vector<std::uint64_t> FeatureHashes(std::string_view question) const;

 private:
  /// Features of a text that is already normalised (text speak applied).
  std::vector<std::uint64_t> NormalisedFeatureHashes(std::string_view text) const;

  const QueryBuilder& query_builder_;
  const TextSpeak& text_speak_;
  std::vector<std::string> topic_ids_;
  /// The weight row of a feature hash, or -1.
  std::int64_t RowOf(std::uint64_t hash) const;

  /// Open addressing with linear probing (a power-of-two size, at most half full): a question looks up ~150 features,
  /// and std::unordered_map's lookups were a sizeable part of the query's cost.
  std::vector<std::uint64_t> table_hashes_;  ///< 0 = empty slot (a hash of 0 is stored as 1)
  std::vector<std::uint32_t> table_rows_;
  std::size_t feature_count_ = 0;
  std::vector<float> weights_;  ///< row-major: one row of topic_ids_.size() weights per feature
  std::vector<double> bias_;
};

}  // namespace coach::knowledge
