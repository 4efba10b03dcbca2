#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dialog/knowledge_source.h"
#include "knowledge/content.h"
#include "knowledge/knowledge_index.h"
#include "knowledge/topic_classifier.h"

namespace coach::knowledge {

/// When an answer is confident enough to give. Tuned on five-fold leave-questions-out accuracy over the content's own
/// example questions, against the off-topic questions of faq_set, faq_dev and faq_offtopic_dev (never on a holdout):
/// the "[tuning-loo]" grid in tests/knowledge/knowledge_evaluation_test.cpp. Only a small margin over the runner-up:
/// on questions the index never saw a close second is usually a neighbouring topic that is also right-ish, and each
/// 0.5 of margin cost about two points of leave-out accuracy while rejecting no more off-topic questions; 0.05 only
/// turns a coin toss between two topics into "not sure" (it cost 1 of 766 leave-out questions).
/// A higher floor with a gentler coverage penalty (4 + 18, was 2 + 25) answers more unseen questions whose everyday
/// words no topic explains at the same off-topic rejection (leave-out +5 of 784, all 94 tuning off-topic questions
/// still rejected); weighing unknown or everyday words less in the coverage gained nothing beyond that
/// ("[tuning-unknown]").
/// The bar is min_score + coverage_penalty * (1 - coverage): a topic that explains only part of the question
/// ("carbs for a half marathon" matches the distance topic on "half marathon" alone) must score much higher.
struct AnswerThresholds {
  double min_score = 4.0;          ///< -bm25 of the best topic when it explains the whole question
  double coverage_penalty = 18.0;  ///< extra score needed per unexplained share of the question
  double min_margin = 0.05;        ///< best minus runner-up
  /// Weight of the topic classifier in the choice of topic, once BM25 has decided to answer: the topic with the best
  /// score + w * ln P(topic | question) wins (a product of experts: BM25's score is a sum of log-odds-like weights, the
  /// classifier's probability enters as a log). 0 is BM25 alone. Picked on five-fold leave-questions-out top-1
  /// accuracy only, the classifier retrained in every fold without the left-out questions ("[tuning-mix]"): 684/784
  /// at 1.0, BM25 alone 680; the accuracy is flat (677..684) from 0.25 to 4, while the held-out log-likelihood of the
  /// right topic keeps improving up to 2.5.
  double classifier_weight = 1.0;
  /// When BM25 is not sure but its best topic is also the classifier's, with at least this probability, and explains
  /// at least agreement_min_coverage of the question, the two agree and the topic is answered: an unseen wording
  /// often misses BM25's bar only because its everyday words are in no topic ("remind me what day 3 was"), while a
  /// topic two different models both pick is rarely wrong. Picked on five-fold leave-questions-out (classifier
  /// retrained per fold) against the 94 tuning off-topic questions ("[tuning-agreement]"): at 0.4 and 0.2, 20 more
  /// left-out questions right, 1 more wrong, no off-topic question accepted. 0 turns the agreement off.
  double agreement_min_probability = 0.4;
  double agreement_min_coverage = 0.2;  ///< of BM25's best topic
};

/// Why the picker answered or not, for the CLI, logs and tuning.
struct AnswerDecision {
  std::optional<std::string> topic_id;  ///< set only when confident
  double score = 0;                     ///< best topic's score, even when not confident
  double runner_up_score = 0;
  double coverage = 0;        ///< best topic's coverage
  std::string best_topic_id;  ///< best topic, even when not confident ("" when nothing matched)
  std::string bm25_topic_id;  ///< BM25's own best topic ("" when nothing matched)
  /// The classifier's probability of best_topic_id; 0 when it was not consulted (BM25 did not answer, or won by more
  /// than the classifier could change).
  double classifier_probability = 0;
};

/// Picks the best topic only when its score passes the coverage-dependent bar AND beats the runner-up by the margin:
/// an honest "not sure" is better than a confident wrong answer.
AnswerDecision PickAnswer(const std::vector<SearchHit>& hits, const AnswerThresholds& thresholds);
/// The same decision to answer or not (BM25's best score, coverage and margin), except that a topic BM25 and the
/// classifier agree on is answered (AnswerThresholds::agreement_min_probability); the topic is the one with the best
/// score + classifier_weight * ln P(topic): `probabilities` are per topic in the order of `topic_ids`; `hits` should
/// hold every topic BM25 matched (a topic missing from them scores 0).
AnswerDecision PickAnswer(const std::vector<SearchHit>& hits, const std::vector<std::string>& topic_ids,
                          const std::vector<double>& probabilities, const AnswerThresholds& thresholds);

/// The coaching content behind the dialog's KnowledgeSource: FAQ answers from the FTS5 index (whether to answer, or
/// not sure unless the classifier agrees) and the topic classifier (which topic, mixed with BM25), and the recovery
/// plans. The classifier is trained in the constructor. Immutable after construction and safe to share between threads.
class KnowledgeBase final : public dialog::KnowledgeSource {
 public:
  explicit KnowledgeBase(Content content, AnswerThresholds thresholds = {});
  /// Loads and validates `content_dir`; throws ContentError (file:line) on broken content.
  static std::unique_ptr<KnowledgeBase> FromDirectory(const std::filesystem::path& content_dir);

  std::optional<dialog::KnowledgeAnswer> Answer(std::string_view question) const override;
  std::vector<std::string> Plan(const dialog::PlanRequest& request) const override;

  /// The decision behind Answer, confident or not.
  AnswerDecision Decide(std::string_view question) const;
  /// Title, summary and the first lines of the body as one chat message.
  std::string AnswerText(const Topic& topic) const;
  const Topic* FindTopic(std::string_view id) const;

  const Content& content() const { return content_; }
  const KnowledgeIndex& index() const { return *index_; }
  const TopicClassifier& classifier() const { return *classifier_; }
  const AnswerThresholds& thresholds() const { return thresholds_; }

 private:
  Content content_;
  AnswerThresholds thresholds_;
  std::unique_ptr<KnowledgeIndex> index_;
  std::unique_ptr<TopicClassifier> classifier_;  ///< uses index_'s query builder and content_'s text speak
};

}  // namespace coach::knowledge
