// Measures the answer picker on the real content: top-1 accuracy on on-topic questions (an unanswered question
// counts as wrong) and the rejection rate on off-topic ones. The thresholds in knowledge_base.h were tuned on
// leave-questions-out accuracy and the off-topic questions of faq_set.jsonl, faq_dev.jsonl (the first holdout, now a
// development set, studied for classes of failure) and faq_offtopic_dev.jsonl; faq_holdout_v2.jsonl was written from
// the topic titles alone and is never tuned on: only its figures are printed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "knowledge/knowledge_base.h"

using coach::knowledge::AnswerThresholds;
using coach::knowledge::KnowledgeBase;

namespace {

struct LabelledQuestion {
  std::string text;
  std::optional<std::string> topic;  ///< nullopt: must not be answered
};

std::vector<LabelledQuestion> ReadQuestions(const std::string& relative) {
  std::ifstream in(std::string(COACH_SOURCE_DIR) + "/" + relative);
  REQUIRE(in);
  std::vector<LabelledQuestion> questions;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto json = nlohmann::json::parse(line);
    LabelledQuestion question{json.at("text").get<std::string>(), std::nullopt};
    if (!json.at("topic").is_null()) question.topic = json.at("topic").get<std::string>();
    questions.push_back(std::move(question));
  }
  return questions;
}

const KnowledgeBase& ProductKnowledge() {
  static const auto knowledge = KnowledgeBase::FromDirectory(std::string(COACH_SOURCE_DIR) + "/content");
  return *knowledge;
}

struct Figures {
  int on_topic = 0;
  int correct = 0;
  int off_topic = 0;
  int rejected = 0;
  std::vector<std::string> mistakes;
  double accuracy() const { return on_topic == 0 ? 0 : static_cast<double>(correct) / on_topic; }
  double rejection() const { return off_topic == 0 ? 0 : static_cast<double>(rejected) / off_topic; }
};

// The product's decision (KnowledgeBase::Decide: BM25 decides whether to answer, BM25 and the classifier which topic).
Figures Evaluate(const KnowledgeBase& knowledge, const std::vector<LabelledQuestion>& questions) {
  Figures figures;
  for (const auto& question : questions) {
    const auto decision = knowledge.Decide(question.text);
    const std::string answered = decision.topic_id.value_or("null");
    const std::string expected = question.topic.value_or("null");
    if (question.topic) {
      ++figures.on_topic;
      if (decision.topic_id == question.topic) ++figures.correct;
    } else {
      ++figures.off_topic;
      if (!decision.topic_id) ++figures.rejected;
    }
    if (answered != expected) {
      const auto probabilities = knowledge.classifier().Probabilities(question.text);
      const auto top = std::max_element(probabilities.begin(), probabilities.end()) - probabilities.begin();
      char scores[192];
      std::snprintf(scores, sizeof scores, "%.2f/%.2f cov %.2f p %.2f, bm25 %s, classifier %s %.2f", decision.score,
                    decision.runner_up_score, decision.coverage, decision.classifier_probability,
                    decision.bm25_topic_id.c_str(), knowledge.classifier().topic_ids()[top].c_str(),
                    probabilities[top]);
      figures.mistakes.push_back("expected " + expected + ", got " + answered + " (best " + decision.best_topic_id +
                                 " " + scores + "): " + question.text);
    }
  }
  return figures;
}

// BM25 alone (the picker before the classifier), for the threshold grids and for comparison.
Figures EvaluateBm25(const coach::knowledge::KnowledgeIndex& index, const std::vector<LabelledQuestion>& questions,
                     const AnswerThresholds& thresholds) {
  Figures figures;
  for (const auto& question : questions) {
    const auto hits = index.Search(question.text, 2);
    const auto decision = PickAnswer(hits, thresholds);
    const std::string answered = decision.topic_id.value_or("null");
    const std::string expected = question.topic.value_or("null");
    if (question.topic) {
      ++figures.on_topic;
      if (decision.topic_id == question.topic) ++figures.correct;
    } else {
      ++figures.off_topic;
      if (!decision.topic_id) ++figures.rejected;
    }
    if (answered != expected) {
      char scores[96];
      std::snprintf(scores, sizeof scores, "%.2f/%.2f cov %.2f", decision.score, decision.runner_up_score,
                    hits.empty() ? 0.0 : hits[0].coverage);
      figures.mistakes.push_back("expected " + expected + ", got " + answered + " (best " + decision.best_topic_id +
                                 " " + scores + "): " + question.text);
    }
  }
  return figures;
}

void Report(const std::string& name, const Figures& figures, bool list_mistakes) {
  std::cout << name << ": ";
  if (figures.on_topic > 0) {
    std::cout << "top-1 accuracy " << figures.correct << "/" << figures.on_topic << " = " << 100 * figures.accuracy()
              << "%, ";
  }
  std::cout << "off-topic rejection " << figures.rejected << "/" << figures.off_topic << " = "
            << 100 * figures.rejection() << "%\n";
  if (!list_mistakes) return;  // the holdout's questions stay unseen, so that nobody tunes on them
  for (const auto& mistake : figures.mistakes) std::cout << "  " << mistake << "\n";
}

}  // namespace

TEST_CASE("FAQ set: top-1 accuracy and off-topic rejection reach 90%", "[evaluation]") {
  const auto questions = ReadQuestions("tests/data/faq_set.jsonl");
  const auto figures = Evaluate(ProductKnowledge(), questions);
  Report("faq_set.jsonl", figures, true);
  REQUIRE(figures.on_topic >= 100);
  REQUIRE(figures.off_topic >= 25);
  REQUIRE(figures.accuracy() >= 0.90);
  REQUIRE(figures.rejection() >= 0.90);
}

TEST_CASE("FAQ dev set (the first holdout): the same bars", "[evaluation]") {
  const auto questions = ReadQuestions("tests/data/faq_dev.jsonl");
  const auto figures = Evaluate(ProductKnowledge(), questions);
  Report("faq_dev.jsonl", figures, true);
  REQUIRE(figures.on_topic > 0);
  REQUIRE(figures.off_topic > 0);
  REQUIRE(figures.accuracy() >= 0.90);
  REQUIRE(figures.rejection() >= 0.90);
}

namespace {
// A held-out set of known size must keep at least its first run's right answers and refusals (its questions are
// not printed).
void CheckFirstRunFloor(const std::string& name, int on_topic, int off_topic, int correct, int rejected) {
  const auto figures = Evaluate(ProductKnowledge(), ReadQuestions("tests/data/" + name));
  Report(name, figures, false);
  REQUIRE(figures.on_topic == on_topic);
  REQUIRE(figures.off_topic == off_topic);
  CHECK(figures.correct >= correct);
  CHECK(figures.rejected >= rejected);
}
}  // namespace

TEST_CASE("FAQ holdout v2: never tuned on, a floor of 85% on a small set", "[evaluation]") {
  const auto questions = ReadQuestions("tests/data/faq_holdout_v2.jsonl");
  const auto figures = Evaluate(ProductKnowledge(), questions);
  Report("faq_holdout_v2.jsonl", figures, false);
  REQUIRE(figures.on_topic >= 35);
  REQUIRE(figures.off_topic >= 10);
  CHECK(figures.accuracy() >= 0.85);
  CHECK(figures.rejection() >= 0.85);
}

// Holdouts v3 (85 + 25, from the topic list) and v4 (55 + 15, chat style) were written by other engineers without
// reading content/ or knowledge/ and first run at commit 2288848: v3 73/85 top-1 and 25/25 rejected, v4 47/55 and
// 15/15 (the code of c0153cc scored 72/85, 24/25 and 48/55, 13/15). The floors are those first-run figures, a
// regression guard and not the product bar (90%, not met on a first run). Their misses were then fixed by concept
// (docs/benchmarks.md); their questions are not printed.
TEST_CASE("FAQ holdout v3: floor at its first-run figures", "[evaluation]") {
  CheckFirstRunFloor("faq_holdout_v3.jsonl", 85, 25, 73, 25);
}

TEST_CASE("FAQ holdout v4: floor at its first-run figures", "[evaluation]") {
  CheckFirstRunFloor("faq_holdout_v4.jsonl", 55, 15, 47, 15);
}

// Hidden (run with `coach_knowledge_tests "[tuning]"`): the threshold grid on faq_set.jsonl (and faq_dev.jsonl) that
// the defaults were picked from. Never reads the holdout.
TEST_CASE("threshold grid on the FAQ set", "[.][tuning]") {
  const auto questions = ReadQuestions("tests/data/faq_set.jsonl");
  const auto dev_questions = ReadQuestions("tests/data/faq_dev.jsonl");
  for (double min_score : {0.0, 2.0, 4.0, 6.0, 8.0}) {
    for (double coverage_penalty : {15.0, 20.0, 25.0, 30.0, 35.0, 40.0}) {
      for (double min_margin : {0.0, 1.0, 2.0}) {
        const AnswerThresholds thresholds{min_score, coverage_penalty, min_margin};
        const auto figures = EvaluateBm25(ProductKnowledge().index(), questions, thresholds);
        const auto dev = EvaluateBm25(ProductKnowledge().index(), dev_questions, thresholds);
        std::printf(
            "min_score %4.1f  coverage_penalty %4.1f  min_margin %3.1f  accuracy %5.1f%%  rejection %5.1f%%  "
            "dev accuracy %5.1f%%  dev rejection %5.1f%%\n",
            min_score, coverage_penalty, min_margin, 100 * figures.accuracy(), 100 * figures.rejection(),
            100 * dev.accuracy(), 100 * dev.rejection());
      }
    }
  }
  SUCCEED();
}

TEST_CASE("the product content loads: 17 topics, both plan weeks", "[evaluation]") {
  const auto& content = ProductKnowledge().content();
  CHECK(content.topics.size() == 17);
  CHECK(content.plans_by_week.size() == 2);
  std::cout << "content: " << content.topics.size() << " topics, " << ProductKnowledge().index().entry_count()
            << " entries, " << ProductKnowledge().index().vocabulary_size() << " words, "
            << ProductKnowledge().classifier().feature_count() << " classifier features\n";
}

// Hidden: one tab-separated line per faq_set.jsonl question and index variant (layout, synonym mode, weights) with
// the picker's inputs, for offline analysis of the choices in knowledge_index.h. Reads the set only.
TEST_CASE("feature dump of the FAQ set", "[.][dump]") {
  using coach::knowledge::IndexLayout;
  using coach::knowledge::SynonymMode;
  const auto content = coach::knowledge::LoadContent(std::string(COACH_SOURCE_DIR) + "/content");
  const std::vector<std::pair<std::string, coach::knowledge::ColumnWeights>> weight_sets = {
      {"default", {}},
      {"flat", {1, 1, 1, 1, 1}},
      {"questions", {2, 6, 2, 1, 1}},
      {"titles", {8, 3, 3, 1.5, 1}},
      {"tags", {4, 3, 6, 1.5, 1}},
      {"body", {4, 3, 3, 3, 2}}};
  for (auto layout : {IndexLayout::kTopicRows, IndexLayout::kQuestionRows}) {
    for (auto mode : {SynonymMode::kQueryExpansion, SynonymMode::kConceptTokens}) {
      for (const auto& [weights_name, weights] : weight_sets) {
        coach::knowledge::IndexOptions options;
        options.layout = layout;
        options.synonyms = mode;
        options.weights = weights;
        const coach::knowledge::KnowledgeIndex index(content, options);
        for (const auto& question : ReadQuestions("tests/data/faq_set.jsonl")) {
          const auto hits = index.Search(question.text, 2);
          std::printf("%d/%d/%s\t%s\t%s\t%.3f\t%.3f\t%.3f\t%.3f\t%s\n", static_cast<int>(layout),
                      static_cast<int>(mode), weights_name.c_str(), question.topic.value_or("null").c_str(),
                      hits.empty() ? "" : hits[0].topic_id.c_str(), hits.empty() ? 0.0 : hits[0].score,
                      hits.size() > 1 ? hits[1].score : 0.0, hits.empty() ? 0.0 : hits[0].coverage,
                      hits.size() > 1 ? hits[1].coverage : 0.0, question.text.c_str());
        }
      }
    }
  }
  SUCCEED();
}

// Hidden: per-term detail of faq_set.jsonl and faq_dev.jsonl for the default index (topics containing each term),
// for analysis of the coverage formula. Never reads the holdout.
TEST_CASE("term dump of the FAQ set", "[.][terms]") {
  const auto& index = ProductKnowledge().index();
  auto questions = ReadQuestions("tests/data/faq_set.jsonl");
  for (auto& question : ReadQuestions("tests/data/faq_dev.jsonl")) questions.push_back(std::move(question));
  // COACH_TERMS_QUESTIONS=<file>: one question per line instead, for probing questions of one's own.
  if (const char* file = std::getenv("COACH_TERMS_QUESTIONS"); file != nullptr) {
    questions.clear();
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) questions.push_back({line, std::nullopt});
  }
  for (const auto& question : questions) {
    const auto hits = index.Search(question.text, 2);
    std::printf("Q\t%s\t%s\t%.3f\t%.3f\t%s\n", question.topic.value_or("null").c_str(),
                hits.empty() ? "" : hits[0].topic_id.c_str(), hits.empty() ? 0.0 : hits[0].score,
                hits.size() > 1 ? hits[1].score : 0.0, question.text.c_str());
    for (const auto& term : index.query_builder().Terms(question.text)) {
      std::string topics;
      for (const auto& topic : index.TopicsWith(term)) topics += topic + ",";
      std::string alternatives;
      for (const auto& alternative : term.alternatives) alternatives += alternative + "|";
      std::printf("T\t%s\t%s\t%s\n", term.typed.c_str(), alternatives.c_str(), topics.c_str());
    }
  }
  SUCCEED();
}

// The content's own example questions are also index rows, so every figure above is partly a training figure. Five
// folds: each fold takes every fifth example question out of every topic, builds the index from the rest and asks
// the removed questions (an unanswered one counts as wrong). It is pessimistic: a removed question's rare words
// leave the vocabulary with it and count as unknown. Together with the holdouts it is the estimate of accuracy on
// questions the index never saw, and what the thresholds were tuned on (with the off-topic questions below).
namespace {

struct Fold {
  coach::knowledge::Content training;
  std::vector<LabelledQuestion> removed;
};

std::vector<Fold> LeaveQuestionsOutFolds(const coach::knowledge::Content& full, std::size_t folds) {
  std::vector<Fold> result;
  for (std::size_t fold = 0; fold < folds; ++fold) {
    Fold current{{{}, full.synonyms, full.plans_by_week, full.variations, full.text_speak}, {}};
    for (const auto& topic : full.topics) {
      coach::knowledge::Topic kept = topic;
      kept.questions.clear();
      for (std::size_t i = 0; i < topic.questions.size(); ++i) {
        if (i % folds == fold) {
          current.removed.push_back({topic.questions[i], topic.id});
        } else {
          kept.questions.push_back(topic.questions[i]);
        }
      }
      current.training.topics.push_back(std::move(kept));
    }
    result.push_back(std::move(current));
  }
  return result;
}

constexpr std::size_t kFolds = 5;

// The off-topic questions the thresholds are tuned against: those of the tuning and dev sets and a set of 50
// running-adjacent ones (food, race speed, kit, other injuries, accounts) written by the knowledge engineer.
std::vector<LabelledQuestion> TuningOffTopicQuestions() {
  std::vector<LabelledQuestion> off_topic;
  for (const char* set :
       {"tests/data/faq_set.jsonl", "tests/data/faq_dev.jsonl", "tests/data/faq_offtopic_dev.jsonl"}) {
    for (auto& question : ReadQuestions(set)) {
      if (!question.topic) off_topic.push_back(std::move(question));
    }
  }
  return off_topic;
}

}  // namespace

TEST_CASE("five-fold leave-questions-out accuracy on the content's example questions", "[evaluation]") {
  const auto& full = ProductKnowledge().content();
  Figures total;
  Figures bm25_total;
  for (const auto& fold : LeaveQuestionsOutFolds(full, kFolds)) {
    // The knowledge base trains its classifier on this fold's questions only: it never sees a left-out question.
    const KnowledgeBase knowledge(fold.training, ProductKnowledge().thresholds());
    const auto figures = Evaluate(knowledge, fold.removed);
    total.on_topic += figures.on_topic;
    total.correct += figures.correct;
    total.mistakes.insert(total.mistakes.end(), figures.mistakes.begin(), figures.mistakes.end());
    const auto bm25 = EvaluateBm25(knowledge.index(), fold.removed, ProductKnowledge().thresholds());
    bm25_total.on_topic += bm25.on_topic;
    bm25_total.correct += bm25.correct;
  }
  std::cout << "leave-questions-out (" << kFolds << " folds): top-1 accuracy " << total.correct << "/" << total.on_topic
            << " = " << 100 * total.accuracy() << "% (BM25 alone " << bm25_total.correct << "/" << bm25_total.on_topic
            << ")\n";
  // The content's own questions, so printing them reveals nothing held out: the misses show what unseen wording lacks.
  for (const auto& mistake : total.mistakes) std::cout << "  " << mistake << "\n";
  REQUIRE(total.on_topic >= 17 * 8);
  // A regression guard below the measured figure (83.3% in round 5, 86.7% in round 6, 87.2% with the classifier in
  // round 7, 89.9% with BM25 and the classifier agreeing in round 8, 2026-11-30), not the product bar.
  CHECK(total.accuracy() >= 0.87);
}

// Hidden (run with `coach_knowledge_tests "[tuning-mix]"`): leave-questions-out top-1 accuracy by the classifier's
// weight in the choice of topic (score + w * ln p), the classifier retrained in every fold without the left-out
// questions, and the held-out log-likelihood of the right topic under softmax(score / T + (w / T) * ln p) for the best
// temperature T. Rejection does not depend on the weight (BM25 decides it). Never reads a holdout.
TEST_CASE("classifier weight grid on leave-questions-out", "[.][tuning-mix]") {
  struct Asked {
    std::string topic;
    std::vector<coach::knowledge::SearchHit> hits;
    std::vector<double> probabilities;
  };
  std::vector<Asked> asked;
  std::vector<std::string> topic_ids;
  for (const auto& fold : LeaveQuestionsOutFolds(ProductKnowledge().content(), kFolds)) {
    const KnowledgeBase knowledge(fold.training, ProductKnowledge().thresholds());
    topic_ids = knowledge.classifier().topic_ids();
    for (const auto& question : fold.removed) {
      asked.push_back({*question.topic, knowledge.index().Search(question.text, 17),
                       knowledge.classifier().Probabilities(question.text)});
    }
  }
  {
    // Where BM25's misses are: rejected (no weight can help) or answered with a wrong topic.
    int rejected = 0, bm25_wrong = 0, classifier_right_there = 0, classifier_alone = 0;
    for (const auto& question : asked) {
      const auto decision = PickAnswer(question.hits, ProductKnowledge().thresholds());
      const auto top = std::max_element(question.probabilities.begin(), question.probabilities.end());
      const bool classifier_right =
          topic_ids[static_cast<std::size_t>(top - question.probabilities.begin())] == question.topic;
      classifier_alone += classifier_right ? 1 : 0;
      if (!decision.topic_id) {
        ++rejected;
      } else if (decision.topic_id != question.topic) {
        ++bm25_wrong;
        classifier_right_there += classifier_right ? 1 : 0;
      }
    }
    std::printf(
        "BM25 alone: %d rejected, %d wrong topic (the classifier's top-1 right on %d of them); the classifier's top-1 "
        "alone, answering everything: %d/%zu\n",
        rejected, bm25_wrong, classifier_right_there, classifier_alone, asked.size());
  }
  for (double weight : {0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0}) {
    AnswerThresholds thresholds = ProductKnowledge().thresholds();
    thresholds.classifier_weight = weight;
    int answered = 0;
    int correct = 0;
    double best_log_likelihood = -1e300;
    for (double temperature : {1.0, 1.5, 2.0, 2.5, 3.0, 4.0}) {
      double log_likelihood = 0;
      for (const auto& question : asked) {
        if (!PickAnswer(question.hits, thresholds).topic_id) continue;
        std::vector<double> logits;
        std::size_t right = 0;
        for (std::size_t k = 0; k < topic_ids.size(); ++k) {
          double score = 0;
          for (const auto& hit : question.hits) score = hit.topic_id == topic_ids[k] ? hit.score : score;
          logits.push_back((score + weight * std::log(std::max(question.probabilities[k], 1e-12))) / temperature);
          if (topic_ids[k] == question.topic) right = k;
        }
        const double top = *std::max_element(logits.begin(), logits.end());
        double sum = 0;
        for (const double logit : logits) sum += std::exp(logit - top);
        log_likelihood += logits[right] - top - std::log(sum);
      }
      best_log_likelihood = std::max(best_log_likelihood, log_likelihood);
    }
    for (const auto& question : asked) {
      const auto decision = PickAnswer(question.hits, topic_ids, question.probabilities, thresholds);
      answered += decision.topic_id ? 1 : 0;
      correct += decision.topic_id == question.topic ? 1 : 0;
    }
    std::printf("classifier_weight %4.2f  leave-out %d/%zu = %5.1f%% (answered %d)  log-likelihood %.1f\n", weight,
                correct, asked.size(), 100.0 * correct / asked.size(), answered, best_log_likelihood);
  }
  SUCCEED();
}

TEST_CASE("running-adjacent off-topic questions are rejected", "[evaluation]") {
  const auto questions = ReadQuestions("tests/data/faq_offtopic_dev.jsonl");
  const auto figures = Evaluate(ProductKnowledge(), questions);
  Report("faq_offtopic_dev.jsonl", figures, true);
  REQUIRE(figures.off_topic >= 50);
  CHECK(figures.rejection() >= 0.90);
}

// Hidden (run with `coach_knowledge_tests "[tuning-loo]"`): the threshold grid the defaults were picked from:
// leave-questions-out accuracy, tuning and dev on-topic accuracy, and rejection over every tuning off-topic question.
// Never reads a holdout.
TEST_CASE("threshold grid on leave-questions-out and the off-topic questions", "[.][tuning-loo]") {
  struct Asked {
    std::optional<std::string> topic;
    std::vector<coach::knowledge::SearchHit> hits;
    bool loo = false;
  };
  std::vector<Asked> asked;
  for (const auto& fold : LeaveQuestionsOutFolds(ProductKnowledge().content(), kFolds)) {
    const coach::knowledge::KnowledgeIndex index(fold.training);
    for (const auto& question : fold.removed) asked.push_back({question.topic, index.Search(question.text, 2), true});
  }
  for (const char* set : {"tests/data/faq_set.jsonl", "tests/data/faq_dev.jsonl"}) {
    for (const auto& question : ReadQuestions(set)) {
      if (question.topic) asked.push_back({question.topic, ProductKnowledge().index().Search(question.text, 2)});
    }
  }
  for (const auto& question : TuningOffTopicQuestions()) {
    asked.push_back({std::nullopt, ProductKnowledge().index().Search(question.text, 2)});
  }
  for (double min_score : {0.0, 2.0, 4.0, 5.0, 6.0, 7.0, 8.0}) {
    for (double coverage_penalty : {12.0, 14.0, 15.0, 16.0, 18.0, 20.0, 25.0, 30.0}) {
      for (double min_margin : {0.0, 0.05, 0.5, 1.0}) {
        const AnswerThresholds thresholds{min_score, coverage_penalty, min_margin};
        int loo = 0, loo_correct = 0, on = 0, on_correct = 0, off = 0, off_rejected = 0;
        for (const auto& question : asked) {
          const auto decision = PickAnswer(question.hits, thresholds);
          if (!question.topic) {
            ++off;
            off_rejected += decision.topic_id ? 0 : 1;
          } else if (question.loo) {
            ++loo;
            loo_correct += decision.topic_id == question.topic ? 1 : 0;
          } else {
            ++on;
            on_correct += decision.topic_id == question.topic ? 1 : 0;
          }
        }
        std::printf(
            "min_score %4.1f  coverage_penalty %4.1f  min_margin %4.2f  leave-out %5.1f%%  tuning+dev %5.1f%%  "
            "off-topic rejected %5.1f%%\n",
            min_score, coverage_penalty, min_margin, 100.0 * loo_correct / loo, 100.0 * on_correct / on,
            100.0 * off_rejected / off);
      }
    }
  }
  SUCCEED();
}

// Hidden: the picker's inputs for every leave-questions-out question and every question of the tuning sets (full
// index), as tab-separated lines for offline studies of index variants. Never reads a holdout.
TEST_CASE("picker input dump: leave-questions-out and the tuning sets", "[.][picker-dump]") {
  auto questions = ReadQuestions("tests/data/faq_set.jsonl");
  for (auto& question : ReadQuestions("tests/data/faq_dev.jsonl")) questions.push_back(std::move(question));
  for (auto& question : ReadQuestions("tests/data/faq_offtopic_dev.jsonl")) questions.push_back(std::move(question));
  const auto print = [](const char* set, const LabelledQuestion& question,
                        const std::vector<coach::knowledge::SearchHit>& hits) {
    std::printf("D\tdefault\t%s\t%s\t%s\t%.4f\t%.4f\t%.4f\t%s\n", set, question.topic.value_or("null").c_str(),
                hits.empty() ? "" : hits[0].topic_id.c_str(), hits.empty() ? 0.0 : hits[0].score,
                hits.size() > 1 ? hits[1].score : 0.0, hits.empty() ? 0.0 : hits[0].coverage, question.text.c_str());
  };
  for (const auto& question : questions) print("tuning", question, ProductKnowledge().index().Search(question.text, 2));
  for (const auto& fold : LeaveQuestionsOutFolds(ProductKnowledge().content(), kFolds)) {
    const coach::knowledge::KnowledgeIndex index(fold.training);
    for (const auto& question : fold.removed) print("loo", question, index.Search(question.text, 2));
  }
  SUCCEED();
}

// The evaluation sets measure questions the index has not seen: no example question in the content may be one of
// theirs (same words in the same order, whatever the case and punctuation).
TEST_CASE("no example question of the content repeats a question of an evaluation set", "[evaluation]") {
  std::set<std::vector<std::string>> evaluated;
  for (const char* set :
       {"tests/data/faq_set.jsonl", "tests/data/faq_dev.jsonl", "tests/data/faq_holdout_v2.jsonl",
        "tests/data/faq_holdout_v3.jsonl", "tests/data/faq_holdout_v4.jsonl", "tests/data/faq_holdout_v5.jsonl",
        "tests/data/faq_holdout_v6.jsonl", "tests/data/faq_holdout_v7.jsonl", "tests/data/faq_holdout_v8.jsonl",
        "tests/data/faq_holdout_v9.jsonl", "tests/data/faq_holdout_v10.jsonl", "tests/data/faq_holdout_v11.jsonl",
        "tests/data/faq_holdout_v12.jsonl", "tests/data/faq_holdout_v13.jsonl", "tests/data/faq_holdout_v14.jsonl",
        "tests/data/faq_holdout_v15.jsonl", "tests/data/faq_offtopic_dev.jsonl"}) {
    for (const auto& question : ReadQuestions(set)) {
      evaluated.insert(coach::knowledge::QueryBuilder::Words(question.text));
    }
  }
  for (const auto& topic : ProductKnowledge().content().topics) {
    for (const auto& question : topic.questions) {
      INFO(topic.id << ": " << question);
      CHECK(evaluated.count(coach::knowledge::QueryBuilder::Words(question)) == 0);
    }
  }
}

// The in-memory ranking (the default) must give exactly what FTS5's own MATCH and bm25() give: same topics in the
// same order, same scores and coverage, on every question of every evaluation set and every example question.
TEST_CASE("in-memory ranking equals FTS5's ranking on every evaluation question", "[evaluation]") {
  using coach::knowledge::IndexOptions;
  using coach::knowledge::KnowledgeIndex;
  using coach::knowledge::Ranking;
  const auto& content = ProductKnowledge().content();
  IndexOptions reference_options;
  reference_options.ranking = Ranking::kSqlite;
  const KnowledgeIndex reference(content, reference_options);
  const KnowledgeIndex in_memory(content);
  std::vector<std::string> questions;
  for (const char* set :
       {"tests/data/faq_set.jsonl", "tests/data/faq_dev.jsonl", "tests/data/faq_holdout_v2.jsonl",
        "tests/data/faq_holdout_v3.jsonl", "tests/data/faq_holdout_v4.jsonl", "tests/data/faq_holdout_v5.jsonl",
        "tests/data/faq_holdout_v6.jsonl", "tests/data/faq_holdout_v7.jsonl", "tests/data/faq_holdout_v8.jsonl",
        "tests/data/faq_holdout_v9.jsonl", "tests/data/faq_holdout_v10.jsonl", "tests/data/faq_holdout_v11.jsonl",
        "tests/data/faq_holdout_v12.jsonl", "tests/data/faq_holdout_v13.jsonl", "tests/data/faq_holdout_v14.jsonl",
        "tests/data/faq_holdout_v15.jsonl", "tests/data/faq_offtopic_dev.jsonl"}) {
    for (const auto& question : ReadQuestions(set)) questions.push_back(question.text);
  }
  for (const auto& topic : content.topics) {
    for (const auto& question : topic.questions) questions.push_back(question);
  }
  const int all_topics = static_cast<int>(content.topics.size());
  std::size_t compared_hits = 0;
  for (const auto& question : questions) {
    const auto expected = reference.Search(question, all_topics);
    const auto actual = in_memory.Search(question, all_topics);
    INFO(question);
    REQUIRE(actual.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      CHECK(actual[i].topic_id == expected[i].topic_id);
      CHECK(actual[i].score == expected[i].score);
      CHECK(actual[i].coverage == expected[i].coverage);
    }
    for (const auto& term : in_memory.query_builder().Terms(question)) {
      auto expected_topics = reference.TopicsWith(term);
      auto actual_topics = in_memory.TopicsWith(term);
      std::sort(expected_topics.begin(), expected_topics.end());
      std::sort(actual_topics.begin(), actual_topics.end());
      CHECK(actual_topics == expected_topics);
    }
    compared_hits += expected.size();
  }
  CHECK(compared_hits > questions.size());
}

// Holdout v5 (62 on-topic + 18 off-topic questions in new voices) was written by another engineer without reading
// content/ and first run once at ac1a5ef, after this round's changes were committed: 54/62 top-1 and 17/18 rejected
// (the code of 7b869f0 scored 53/62 and 17/18). The floors are those first-run figures: a regression guard, not the
// product bar (90% top-1 is not met on this first run). Its questions are not printed.
TEST_CASE("FAQ holdout v5: floor at its first-run figures", "[evaluation]") {
  CheckFirstRunFloor("faq_holdout_v5.jsonl", 62, 18, 54, 17);
}

// Hidden (run with `coach_knowledge_tests "[tuning-unknown]"`): the coverage weight of a word no topic contains,
// against the thresholds, on the same questions as "[tuning-loo]". Never reads a holdout.
TEST_CASE("unknown-word weight grid on leave-questions-out and the off-topic questions", "[.][tuning-unknown]") {
  const auto& content = ProductKnowledge().content();
  std::vector<LabelledQuestion> tuning;
  for (const char* set : {"tests/data/faq_set.jsonl", "tests/data/faq_dev.jsonl"}) {
    for (auto& question : ReadQuestions(set)) {
      if (question.topic) tuning.push_back(std::move(question));
    }
  }
  const auto off_topic = TuningOffTopicQuestions();
  const auto folds = LeaveQuestionsOutFolds(content, kFolds);
  for (double unknown_weight : {0.0, 0.25, 0.5, 1.0}) {
    coach::knowledge::IndexOptions options;
    options.unknown_term_weight = unknown_weight;
    struct Asked {
      std::optional<std::string> topic;
      std::vector<coach::knowledge::SearchHit> hits;
      int kind = 0;  // 0 leave-out, 1 tuning on-topic, 2 off-topic
    };
    std::vector<Asked> asked;
    for (const auto& fold : folds) {
      const coach::knowledge::KnowledgeIndex index(fold.training, options);
      for (const auto& question : fold.removed) asked.push_back({question.topic, index.Search(question.text, 2), 0});
    }
    const coach::knowledge::KnowledgeIndex full(content, options);
    for (const auto& question : tuning) asked.push_back({question.topic, full.Search(question.text, 2), 1});
    for (const auto& question : off_topic) {
      asked.push_back({std::nullopt, full.Search(question.text, 2), 2});
      const auto decision = PickAnswer(asked.back().hits, ProductKnowledge().thresholds());
      if (decision.topic_id)
        std::printf("  accepted off-topic -> %s: %s\n", decision.topic_id->c_str(), question.text.c_str());
    }
    for (double min_score : {2.0, 3.0, 3.5, 4.0, 4.5, 5.0}) {
      for (double coverage_penalty : {16.0, 17.0, 18.0, 19.0, 20.0, 22.0, 25.0}) {
        const AnswerThresholds thresholds{min_score, coverage_penalty, 0.05};
        int count[3] = {}, right[3] = {};
        for (const auto& question : asked) {
          const auto decision = PickAnswer(question.hits, thresholds);
          ++count[question.kind];
          right[question.kind] += decision.topic_id == question.topic ? 1 : 0;
        }
        std::printf(
            "unknown %4.2f  min_score %4.1f  coverage_penalty %4.1f  leave-out %5.1f%% (%d)  tuning+dev %5.1f%%  "
            "off-topic rejected %5.1f%% (%d/%d)\n",
            unknown_weight, min_score, coverage_penalty, 100.0 * right[0] / count[0], right[0],
            100.0 * right[1] / count[1], 100.0 * right[2] / count[2], right[2], count[2]);
      }
    }
  }
  SUCCEED();
}

// Hidden: for every leave-questions-out miss, the question's terms that its own topic lacks and how many topics hold
// each (0: no topic knows the word), aggregated by word: the words that unseen wording brings and the content lacks.
TEST_CASE("leave-questions-out misses: the terms their topic lacks", "[.][loo-terms]") {
  std::map<std::string, int> lacking;
  for (const auto& fold : LeaveQuestionsOutFolds(ProductKnowledge().content(), kFolds)) {
    const coach::knowledge::KnowledgeIndex index(fold.training);
    for (const auto& question : fold.removed) {
      const auto decision = PickAnswer(index.Search(question.text, 2), ProductKnowledge().thresholds());
      if (decision.topic_id == question.topic) continue;
      std::string line;
      for (const auto& term : index.query_builder().Terms(question.text)) {
        const auto topics = index.TopicsWith(term);
        if (std::find(topics.begin(), topics.end(), *question.topic) != topics.end()) continue;
        line += " " + term.typed + "(" + std::to_string(topics.size()) + ")";
        ++lacking[term.typed + "(" + std::to_string(topics.size()) + ")"];
      }
      std::printf("M\t%s\t%s\t%s\t%s\n", question.topic->c_str(), decision.topic_id.value_or("null").c_str(),
                  line.c_str(), question.text.c_str());
    }
  }
  for (const auto& [word, count] : lacking) std::printf("W\t%d\t%s\n", count, word.c_str());
  SUCCEED();
}

// Holdout v6 (55 on-topic + 15 off-topic questions over all 17 topics) was written by another engineer without reading
// content/ or the other sets and first run once at d394b9a, after this round's changes were committed: 54/55 top-1
// and 15/15 rejected; the code and content of d7657be (the start of the round) scored the same, 54/55 and 15/15. The
// floors are those first-run figures, a regression guard. Its questions are not printed.
TEST_CASE("FAQ holdout v6: floor at its first-run figures", "[evaluation]") {
  CheckFirstRunFloor("faq_holdout_v6.jsonl", 55, 15, 54, 15);
}

// Holdout v7 (55 on-topic + 15 off-topic) was written by a fifth engineer without reading content/ or the other sets
// and first run once at 666f2fd (the knowledge code of round 5): 49/55 top-1 (89.1%, one question under the 90% bar)
// and 15/15 rejected. The floors are those first-run figures, a regression guard. Its questions are not printed.
TEST_CASE("FAQ holdout v7: floor at its first-run figures", "[evaluation]") {
  CheckFirstRunFloor("faq_holdout_v7.jsonl", 55, 15, 49, 15);
}

// Hidden (run with `COACH_STUDY_SET=tests/data/<set>.jsonl coach_knowledge_tests "[study]"`): one set's mistakes with
// the terms of each and the topics holding every term. Only for a set whose first run is recorded: a holdout studied
// before its first run is no longer held out.
TEST_CASE("mistakes of one evaluation set, term by term", "[.][study]") {
  const char* set = std::getenv("COACH_STUDY_SET");
  REQUIRE(set != nullptr);
  const auto& index = ProductKnowledge().index();
  const auto figures = Evaluate(ProductKnowledge(), ReadQuestions(set));
  Report(set, figures, true);
  for (const auto& question : ReadQuestions(set)) {
    const auto decision = ProductKnowledge().Decide(question.text);
    if (decision.topic_id == question.topic) continue;
    std::printf("Q\t%s -> %s\t%s\n", question.topic.value_or("null").c_str(),
                decision.topic_id.value_or("null").c_str(), question.text.c_str());
    for (const auto& term : index.query_builder().Terms(question.text)) {
      std::string topics;
      for (const auto& topic : index.TopicsWith(term)) topics += topic + ",";
      std::string alternatives;
      for (const auto& alternative : term.alternatives) alternatives += alternative + "|";
      std::printf("T\t%s\t%s\t%s\n", term.typed.c_str(), alternatives.c_str(), topics.c_str());
    }
  }
  SUCCEED();
}

// Holdouts v8 and v9 (55 on-topic + 15 off-topic each, new voices) were written by another engineer without reading
// content/ and first run once each, after round 6's changes were committed (1a7d3de): v8 48/55 top-1 (87.3%) and
// 14/15 rejected, v9 47/55 (85.5%) and 14/15; the code and content of 6415e27 (the start of round 6) scored the same
// counts on both. The 90% top-1 bar is not met on these first runs. The floors are the first-run figures, a
// regression guard. Their questions are not printed.
TEST_CASE("FAQ holdout v8: floor at its first-run figures", "[evaluation]") {
  CheckFirstRunFloor("faq_holdout_v8.jsonl", 55, 15, 48, 14);
}

TEST_CASE("FAQ holdout v9: floor at its first-run figures", "[evaluation]") {
  CheckFirstRunFloor("faq_holdout_v9.jsonl", 55, 15, 47, 14);
}

// Hidden: for every leave-questions-out question, BM25's score of every topic and the classifier's probabilities
// (retrained per fold), tab-separated, for offline study of how to combine them. Classifier options from the
// environment (COACH_CLASSIFIER_EPOCHS, _L2, _RATE, _CONTENT_WEIGHT) for its own tuning. Never reads a holdout.
TEST_CASE("leave-questions-out dump of BM25 scores and classifier probabilities", "[.][mix-dump]") {
  coach::knowledge::TopicClassifier::TrainingOptions options;
  if (const char* value = std::getenv("COACH_CLASSIFIER_EPOCHS")) options.epochs = std::atoi(value);
  if (const char* value = std::getenv("COACH_CLASSIFIER_L2")) options.l2 = std::atof(value);
  if (const char* value = std::getenv("COACH_CLASSIFIER_RATE")) options.learning_rate = std::atof(value);
  if (const char* value = std::getenv("COACH_CLASSIFIER_CONTENT_WEIGHT")) {
    options.content_example_weight = std::atof(value);
  }
  const auto print = [](const char* kind, const std::string& topic, const KnowledgeBase& knowledge,
                        const coach::knowledge::TopicClassifier& classifier, const std::string& text) {
    const auto hits = knowledge.index().Search(text, 17);
    const auto decision = PickAnswer(hits, ProductKnowledge().thresholds());
    std::printf("%s\t%s\t%d\t%.4f", kind, topic.c_str(), decision.topic_id ? 1 : 0, decision.coverage);
    const auto probabilities = classifier.Probabilities(text);
    for (std::size_t k = 0; k < probabilities.size(); ++k) {
      double score = 0;
      for (const auto& hit : hits) score = hit.topic_id == classifier.topic_ids()[k] ? hit.score : score;
      std::printf("\t%s:%.4f:%.5f", classifier.topic_ids()[k].c_str(), score, probabilities[k]);
    }
    std::printf("\n");
  };
  std::size_t folds = kFolds;
  if (const char* value = std::getenv("COACH_FOLDS")) folds = static_cast<std::size_t>(std::atoi(value));
  for (const auto& fold : LeaveQuestionsOutFolds(ProductKnowledge().content(), folds)) {
    const KnowledgeBase knowledge(fold.training, ProductKnowledge().thresholds());
    const coach::knowledge::TopicClassifier classifier(fold.training, knowledge.index().query_builder(),
                                                       fold.training.text_speak, options);
    for (const auto& question : fold.removed) print("L", *question.topic, knowledge, classifier, question.text);
  }
  const coach::knowledge::TopicClassifier classifier(ProductKnowledge().content(),
                                                     ProductKnowledge().index().query_builder(),
                                                     ProductKnowledge().content().text_speak, options);
  for (const auto& question : TuningOffTopicQuestions())
    print("O", "null", ProductKnowledge(), classifier, question.text);
  // COACH_MIX_SETS=<file>,<file>: also these sets' questions (kind = the file), only for sets whose first run is
  // recorded.
  if (const char* sets = std::getenv("COACH_MIX_SETS"); sets != nullptr) {
    std::string list = sets;
    for (std::size_t start = 0; start < list.size();) {
      std::size_t end = list.find(',', start);
      if (end == std::string::npos) end = list.size();
      const std::string set = list.substr(start, end - start);
      for (const auto& question : ReadQuestions(set)) {
        print(set.c_str(), question.topic.value_or("null"), ProductKnowledge(), classifier, question.text);
      }
      start = end + 1;
    }
  }
  SUCCEED();
}

// Holdouts v10 and v11 (55 on-topic + 15 off-topic each, other voices, written by another engineer without reading
// content/, committed in 2dbda3a and c9b3068) were first run once each after round 7's changes were committed
// (1edb499, the topic classifier): v10 51/55 top-1 (92.7%) and 15/15 rejected, v11 47/55 (85.5%) and 12/15 (80.0%);
// the code and content of e25b49b (the start of round 7) scored 48/55 and 15/15 on v10, 45/55 and 12/15 on v11. The
// floors are the first-run figures, a regression guard. Their questions are not printed.
TEST_CASE("FAQ holdout v10: floor at its first-run figures", "[evaluation]") {
  CheckFirstRunFloor("faq_holdout_v10.jsonl", 55, 15, 51, 15);
}

TEST_CASE("FAQ holdout v11: floor at its first-run figures", "[evaluation]") {
  CheckFirstRunFloor("faq_holdout_v11.jsonl", 55, 15, 47, 12);
}

// Holdouts v12 and v13 (55 on-topic + 15 off-topic each, new voices, written by another engineer without reading
// content/, committed in d69743a/8daada5 and fb2da1f) were first run once each after round 8's changes were committed
// (2aa37ed: scope rules for racing, sleep, small talk and more subjects; BM25 and the classifier agreeing): v12 54/55
// top-1 (98.2%) and 15/15 rejected, v13 52/55 (94.5%) and 15/15; the code and content of 7168a65 (the start of round
// 8) scored 54/55 and 13/15 on v12, 52/55 and 15/15 on v13. The floors are the first-run figures, a regression guard.
// Their questions are not printed.
TEST_CASE("FAQ holdout v12: floor at its first-run figures", "[evaluation]") {
  CheckFirstRunFloor("faq_holdout_v12.jsonl", 55, 15, 54, 15);
}

TEST_CASE("FAQ holdout v13: floor at its first-run figures", "[evaluation]") {
  CheckFirstRunFloor("faq_holdout_v13.jsonl", 55, 15, 52, 15);
}

// Holdouts v14 and v15 (55 on-topic + 15 off-topic each, yet other voices, written by another engineer without reading
// content/, committed in 03f4a04 and 9c874cc) were first run once each on 9c874cc, the round 8 code and content
// unchanged (nobody worked on knowledge/ or content/ after): v14 53/55 top-1 (96.4%) and 15/15 rejected, v15 53/55
// (96.4%) and 14/15 (93.3%). The floors are the first-run figures, a regression guard. Their questions are not printed.
TEST_CASE("FAQ holdout v14: floor at its first-run figures", "[evaluation]") {
  CheckFirstRunFloor("faq_holdout_v14.jsonl", 55, 15, 53, 15);
}

TEST_CASE("FAQ holdout v15: floor at its first-run figures", "[evaluation]") {
  CheckFirstRunFloor("faq_holdout_v15.jsonl", 55, 15, 53, 14);
}

// Hidden (run with `coach_knowledge_tests "[tuning-agreement]"`): answering a BM25 "not sure" when BM25's best topic is
// also the classifier's top topic, by the classifier's probability and BM25's coverage: left-out questions made right
// and wrong (classifier retrained per fold) and tuning off-topic questions accepted. Never reads a holdout.
TEST_CASE("agreement grid on leave-questions-out and the off-topic questions", "[.][tuning-agreement]") {
  struct Asked {
    std::optional<std::string> topic;
    std::vector<coach::knowledge::SearchHit> hits;
    std::vector<double> probabilities;
  };
  std::vector<Asked> asked;
  std::vector<std::string> topic_ids;
  for (const auto& fold : LeaveQuestionsOutFolds(ProductKnowledge().content(), kFolds)) {
    const KnowledgeBase knowledge(fold.training, ProductKnowledge().thresholds());
    topic_ids = knowledge.classifier().topic_ids();
    for (const auto& question : fold.removed) {
      asked.push_back({question.topic, knowledge.index().Search(question.text, 17),
                       knowledge.classifier().Probabilities(question.text)});
    }
  }
  for (const auto& question : TuningOffTopicQuestions()) {
    asked.push_back({std::nullopt, ProductKnowledge().index().Search(question.text, 17),
                     ProductKnowledge().classifier().Probabilities(question.text)});
  }
  for (const double probability : {0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}) {
    for (const double coverage : {0.0, 0.1, 0.2, 0.3, 0.4}) {
      AnswerThresholds thresholds = ProductKnowledge().thresholds();
      thresholds.agreement_min_probability = probability;
      thresholds.agreement_min_coverage = coverage;
      int right = 0, wrong = 0, accepted = 0;
      for (const auto& question : asked) {
        const auto decision = PickAnswer(question.hits, topic_ids, question.probabilities, thresholds);
        if (!question.topic) {
          accepted += decision.topic_id ? 1 : 0;
        } else if (decision.topic_id) {
          (decision.topic_id == question.topic ? right : wrong) += 1;
        }
      }
      std::printf("agreement p >= %.1f coverage >= %.1f  leave-out right %d wrong %d  off-topic accepted %d\n",
                  probability, coverage, right, wrong, accepted);
    }
  }
  SUCCEED();
}
