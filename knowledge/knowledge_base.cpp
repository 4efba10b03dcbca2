#include "knowledge/knowledge_base.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace coach::knowledge {
namespace {

// Long enough for a useful paragraph, short enough for a phone screen next to the summary.
constexpr std::size_t kExcerptBytes = 420;

// The body's opening, cut at a paragraph or sentence end (or a list line) within kExcerptBytes.
std::string Excerpt(const std::string& body, const std::string& summary) {
  std::string excerpt;
  std::size_t start = 0;
  while (start < body.size()) {
    auto end = body.find("\n\n", start);
    if (end == std::string::npos) end = body.size();
    const std::string paragraph = body.substr(start, end - start);
    start = end + 2;
    if (paragraph == summary) continue;
    const std::size_t room = kExcerptBytes - std::min(kExcerptBytes, excerpt.size());
    if (paragraph.size() + 2 <= room) {
      excerpt += (excerpt.empty() ? "" : "\n\n") + paragraph;
      continue;
    }
    if (excerpt.empty()) {
      // Too long even alone: keep whole sentences or list lines that fit.
      std::size_t cut = 0;
      for (std::size_t i = 0; i < paragraph.size() && i < room; ++i) {
        const bool sentence_end = (paragraph[i] == '.' || paragraph[i] == '!' || paragraph[i] == '?') &&
                                  (i + 1 == paragraph.size() || paragraph[i + 1] == ' ' || paragraph[i + 1] == '\n');
        if (sentence_end) cut = i + 1;
        if (paragraph[i] == '\n') cut = i;
      }
      if (cut == 0) {
        cut = paragraph.rfind(' ', room);
        if (cut == std::string::npos) cut = room;
        excerpt = paragraph.substr(0, cut) + " …";
      } else {
        excerpt = paragraph.substr(0, cut);
      }
    }
    break;
  }
  // A lead-in such as "Why we are cautious:" without the list it introduces reads as cut off: drop its line or
  // sentence, not the whole excerpt.
  while (!excerpt.empty() && excerpt.back() == ':') {
    std::size_t cut = excerpt.rfind('\n');
    for (const char* sentence_end : {". ", "! ", "? "}) {
      const auto at = excerpt.rfind(sentence_end);
      if (at != std::string::npos && (cut == std::string::npos || at + 1 > cut)) cut = at + 1;
    }
    excerpt.erase(cut == std::string::npos ? 0 : cut);
    while (!excerpt.empty() && (excerpt.back() == '\n' || excerpt.back() == ' ')) excerpt.pop_back();
  }
  return excerpt;
}

// A floor under the classifier's probability: a topic it rules out still ranks by its BM25 score, and the classifier
// can move a topic by at most classifier_weight * ln(1 / floor) points, so a clearer BM25 win needs no classifier.
constexpr double kMinProbability = 1e-3;

// Whether a "not sure" from BM25 could still be answered by agreement with the classifier.
bool AgreementPossible(const AnswerDecision& bm25, const AnswerThresholds& thresholds) {
  return thresholds.agreement_min_probability > 0 && !bm25.bm25_topic_id.empty() && bm25.score > 0 &&
         bm25.coverage >= thresholds.agreement_min_coverage;
}

}  // namespace

AnswerDecision PickAnswer(const std::vector<SearchHit>& hits, const AnswerThresholds& thresholds) {
  AnswerDecision decision;
  if (hits.empty()) return decision;
  decision.best_topic_id = hits[0].topic_id;
  decision.bm25_topic_id = hits[0].topic_id;
  decision.score = hits[0].score;
  decision.runner_up_score = hits.size() > 1 ? hits[1].score : 0;
  decision.coverage = hits[0].coverage;
  const double bar = thresholds.min_score + thresholds.coverage_penalty * (1.0 - decision.coverage);
  if (decision.score >= bar && decision.score - decision.runner_up_score >= thresholds.min_margin) {
    decision.topic_id = hits[0].topic_id;
  }
  return decision;
}

AnswerDecision PickAnswer(const std::vector<SearchHit>& hits, const std::vector<std::string>& topic_ids,
                          const std::vector<double>& probabilities, const AnswerThresholds& thresholds) {
  AnswerDecision decision = PickAnswer(hits, thresholds);
  if (hits.empty() || hits[0].score <= 0) return decision;
  if (!decision.topic_id && AgreementPossible(decision, thresholds)) {
    const auto top = std::max_element(probabilities.begin(), probabilities.end()) - probabilities.begin();
    if (static_cast<std::size_t>(top) < topic_ids.size() && topic_ids[top] == hits[0].topic_id &&
        probabilities[top] >= thresholds.agreement_min_probability) {
      decision.topic_id = hits[0].topic_id;
      decision.classifier_probability = probabilities[top];
      return decision;
    }
  }
  if (thresholds.classifier_weight <= 0) return decision;
  double best_mix = -std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < topic_ids.size() && k < probabilities.size(); ++k) {
    double score = 0;
    for (const auto& hit : hits) {
      if (hit.topic_id == topic_ids[k]) score = hit.score;
    }
    const double mix = score + thresholds.classifier_weight * std::log(std::max(probabilities[k], kMinProbability));
    if (mix > best_mix) {
      best_mix = mix;
      decision.best_topic_id = topic_ids[k];
      decision.classifier_probability = probabilities[k];
    }
  }
  if (decision.topic_id) decision.topic_id = decision.best_topic_id;
  return decision;
}

KnowledgeBase::KnowledgeBase(Content content, AnswerThresholds thresholds)
    : content_(std::move(content)),
      thresholds_(thresholds),
      index_(std::make_unique<KnowledgeIndex>(content_)),
      classifier_(std::make_unique<TopicClassifier>(content_, index_->query_builder(), content_.text_speak)) {}

std::unique_ptr<KnowledgeBase> KnowledgeBase::FromDirectory(const std::filesystem::path& content_dir) {
  return std::make_unique<KnowledgeBase>(LoadContent(content_dir));
}

AnswerDecision KnowledgeBase::Decide(std::string_view question) const {
  const auto hits = index_->Search(question, static_cast<int>(index_->topic_count()));
  const AnswerDecision bm25 = PickAnswer(hits, thresholds_);
  // The classifier is needed for a "not sure" only when agreement could answer it, and for an answer only when the
  // runner-up is within the classifier's reach.
  if (!bm25.topic_id) {
    if (!AgreementPossible(bm25, thresholds_)) return bm25;
    return PickAnswer(hits, classifier_->topic_ids(), classifier_->Probabilities(question), thresholds_);
  }
  if (thresholds_.classifier_weight <= 0) return bm25;
  if (bm25.score - bm25.runner_up_score > thresholds_.classifier_weight * std::log(1 / kMinProbability)) return bm25;
  return PickAnswer(hits, classifier_->topic_ids(), classifier_->Probabilities(question), thresholds_);
}

std::optional<dialog::KnowledgeAnswer> KnowledgeBase::Answer(std::string_view question) const {
  const AnswerDecision decision = Decide(question);
  if (!decision.topic_id) return std::nullopt;
  const Topic* topic = FindTopic(*decision.topic_id);
  if (topic == nullptr) return std::nullopt;
  return dialog::KnowledgeAnswer{topic->id, topic->title, AnswerText(*topic), decision.score};
}

std::vector<std::string> KnowledgeBase::Plan(const dialog::PlanRequest& request) const {
  return RenderPlanMessages(TailorPlan(content_.plans_by_week, content_.variations, request));
}

std::string KnowledgeBase::AnswerText(const Topic& topic) const {
  std::string text = topic.title + "\n" + topic.summary;
  const std::string excerpt = Excerpt(topic.body, topic.summary);
  if (!excerpt.empty()) text += "\n\n" + excerpt;
  return text;
}

const Topic* KnowledgeBase::FindTopic(std::string_view id) const {
  for (const auto& topic : content_.topics) {
    if (topic.id == id) return &topic;
  }
  return nullptr;
}

}  // namespace coach::knowledge
