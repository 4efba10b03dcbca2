#include "knowledge/topic_classifier.h"

#include <catch2/catch.hpp>

#include <numeric>

#include "knowledge/knowledge_base.h"
#include "tests/knowledge/temporary_content.h"

using coach::knowledge::AnswerThresholds;
using coach::knowledge::KnowledgeBase;
using coach::knowledge::PickAnswer;
using coach::knowledge::TopicClassifier;
using coach::knowledge::testing::TemporaryContent;

namespace {

coach::knowledge::Content Fixture() {
  return coach::knowledge::LoadContent(TemporaryContent::FixtureDir(), TemporaryContent::Rules());
}

std::string Top(const TopicClassifier& classifier, const std::string& question) {
  const auto probabilities = classifier.Probabilities(question);
  const auto top = std::max_element(probabilities.begin(), probabilities.end()) - probabilities.begin();
  return classifier.topic_ids()[static_cast<std::size_t>(top)];
}

}  // namespace

TEST_CASE("the classifier gives one probability per topic, summing to one", "[classifier]") {
  const KnowledgeBase knowledge(Fixture());
  const auto& classifier = knowledge.classifier();
  std::vector<std::string> content_order;
  for (const auto& topic : knowledge.content().topics) content_order.push_back(topic.id);
  CHECK(classifier.topic_ids() == content_order);
  CHECK(classifier.feature_count() > 100);
  const auto probabilities = classifier.Probabilities("how long should I hold a hamstring stretch");
  REQUIRE(probabilities.size() == 3);
  CHECK(std::accumulate(probabilities.begin(), probabilities.end(), 0.0) == Approx(1.0));
  for (const double probability : probabilities) CHECK(probability > 0);
}

TEST_CASE("the classifier learns each topic from its example questions and content", "[classifier]") {
  const KnowledgeBase knowledge(Fixture());
  const auto& classifier = knowledge.classifier();
  // Its own training questions first.
  for (const auto& topic : knowledge.content().topics) {
    for (const auto& question : topic.questions) {
      INFO(question);
      CHECK(Top(classifier, question) == topic.id);
    }
  }
  // Wordings that are no example question: word pieces ("stretchy", "braces") and the topics' other words.
  CHECK(Top(classifier, "any stretchy moves for my hamstrings?") == "stretches");
  CHECK(Top(classifier, "are braces or corsets a good plan?") == "brace");
  CHECK(Top(classifier, "my midsole has creases, time for a new pair?") == "shoes");
}

TEST_CASE("a question of unknown words gets the prior, not a confident topic", "[classifier]") {
  const KnowledgeBase knowledge(Fixture());
  const auto probabilities = knowledge.classifier().Probabilities("zzqx qjqj");
  for (const double probability : probabilities) CHECK(probability == Approx(1.0 / 3));
}

TEST_CASE("training is deterministic: the same content gives the same probabilities", "[classifier]") {
  const KnowledgeBase first(Fixture());
  const KnowledgeBase second(Fixture());
  for (const char* question : {"how far do shoes last", "belt or no belt", "stretch before a jog?"}) {
    CHECK(first.classifier().Probabilities(question) == second.classifier().Probabilities(question));
    CHECK(first.classifier().FeatureHashes(question) == second.classifier().FeatureHashes(question));
  }
}

TEST_CASE("the classifier picks among topics when BM25 answers, and answers only by agreement",
          "[classifier][answer]") {
  const std::vector<std::string> topics = {"a", "b", "c"};
  AnswerThresholds thresholds{5.0, 10.0, 0.5};
  thresholds.classifier_weight = 2.0;
  SECTION("a close BM25 runner-up the classifier is sure of wins") {
    // a: 9 + 2 ln 0.1 = 4.39; b: 8 + 2 ln 0.85 = 7.67
    const auto decision = PickAnswer({{"a", 9.0, 1.0}, {"b", 8.0, 1.0}}, topics, {0.1, 0.85, 0.05}, thresholds);
    CHECK(decision.topic_id == std::optional<std::string>("b"));
    CHECK(decision.bm25_topic_id == "a");
    CHECK(decision.classifier_probability == 0.85);
    CHECK(decision.score == 9.0);  // the score stays BM25's best, which decided to answer
  }
  SECTION("a clear BM25 winner stays") {
    // a: 20 + 2 ln 0.1 = 15.4; b: 8 + 2 ln 0.85 = 7.67
    const auto decision = PickAnswer({{"a", 20.0, 1.0}, {"b", 8.0, 1.0}}, topics, {0.1, 0.85, 0.05}, thresholds);
    CHECK(decision.topic_id == std::optional<std::string>("a"));
  }
  SECTION("BM25's not-sure stays not sure when the classifier prefers another topic") {
    const auto decision = PickAnswer({{"a", 4.0, 1.0}}, topics, {0.02, 0.97, 0.01}, thresholds);
    CHECK_FALSE(decision.topic_id);
  }
  SECTION("BM25's not-sure is answered when the classifier agrees with enough probability") {
    const auto decision = PickAnswer({{"a", 4.0, 1.0}}, topics, {0.6, 0.3, 0.1}, thresholds);
    CHECK(decision.topic_id == std::optional<std::string>("a"));
    CHECK(decision.classifier_probability == 0.6);
  }
  SECTION("agreement below the probability or the coverage bar stays not sure") {
    CHECK_FALSE(PickAnswer({{"a", 4.0, 1.0}}, topics, {0.35, 0.33, 0.32}, thresholds).topic_id);
    CHECK_FALSE(PickAnswer({{"a", 4.0, 0.1}}, topics, {0.98, 0.01, 0.01}, thresholds).topic_id);
  }
  SECTION("no agreement when it is turned off") {
    thresholds.agreement_min_probability = 0;
    CHECK_FALSE(PickAnswer({{"a", 4.0, 1.0}}, topics, {0.98, 0.01, 0.01}, thresholds).topic_id);
  }
  SECTION("weight 0 is BM25 alone") {
    thresholds.classifier_weight = 0;
    const auto decision = PickAnswer({{"a", 9.0, 1.0}, {"b", 8.0, 1.0}}, topics, {0.01, 0.98, 0.01}, thresholds);
    CHECK(decision.topic_id == std::optional<std::string>("a"));
  }
}

TEST_CASE("the knowledge base's decision mixes BM25 and the classifier", "[classifier][answer]") {
  AnswerThresholds bm25_only;
  bm25_only.classifier_weight = 0;
  bm25_only.agreement_min_probability = 0;
  const KnowledgeBase plain(Fixture(), bm25_only);
  const KnowledgeBase mixed(Fixture());
  for (const auto& topic : mixed.content().topics) {
    for (const auto& question : topic.questions) {
      const auto bm25 = plain.Decide(question);
      const auto decision = mixed.Decide(question);
      INFO(question);
      // Whatever BM25 answers is answered; beyond that only BM25's own best topic, by agreement.
      if (bm25.topic_id) CHECK(decision.topic_id.has_value());
      if (decision.topic_id && !bm25.topic_id) CHECK(*decision.topic_id == bm25.best_topic_id);
      CHECK(decision.bm25_topic_id == bm25.best_topic_id);
    }
  }
}

TEST_CASE("skipping the classifier on a clear BM25 win changes no decision", "[classifier][answer]") {
  const auto knowledge = KnowledgeBase::FromDirectory(std::string(COACH_SOURCE_DIR) + "/content");
  const auto& classifier = knowledge->classifier();
  int consulted = 0;
  int skipped = 0;
  for (const auto& topic : knowledge->content().topics) {
    for (const auto& question : topic.questions) {
      // Ask a variant the classifier was not trained on verbatim, so that BM25 and the classifier disagree at times.
      const std::string asked = question + " thanks";
      const auto full = PickAnswer(knowledge->index().Search(asked, 17), classifier.topic_ids(),
                                   classifier.Probabilities(asked), knowledge->thresholds());
      const auto decision = knowledge->Decide(asked);
      INFO(asked);
      CHECK(decision.topic_id == full.topic_id);
      if (decision.topic_id) (decision.classifier_probability > 0 ? consulted : skipped) += 1;
    }
  }
  // Both paths are exercised.
  CHECK(consulted > 0);
  CHECK(skipped > 0);
}
