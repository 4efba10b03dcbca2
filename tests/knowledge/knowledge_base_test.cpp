#include "knowledge/knowledge_base.h"

#include <catch2/catch.hpp>

#include "tests/knowledge/temporary_content.h"

using coach::knowledge::AnswerThresholds;
using coach::knowledge::KnowledgeBase;
using coach::knowledge::PickAnswer;
using coach::knowledge::SearchHit;
using coach::knowledge::testing::TemporaryContent;

namespace {

coach::knowledge::Content Fixture() {
  return coach::knowledge::LoadContent(TemporaryContent::FixtureDir(), TemporaryContent::Rules());
}

}  // namespace

TEST_CASE("the picker answers only above the coverage-dependent bar and with a margin", "[answer]") {
  const AnswerThresholds thresholds{5.0, 10.0, 2.0};  // bar = 5 + 10 * (1 - coverage)
  CHECK(PickAnswer({{"a", 9.0, 0.9}, {"b", 3.0, 0.1}}, thresholds).topic_id == std::optional<std::string>("a"));
  CHECK(PickAnswer({{"a", 9.0, 1.0}}, thresholds).topic_id == std::optional<std::string>("a"));
  SECTION("below the bar") {
    const auto decision = PickAnswer({{"a", 4.9, 1.0}, {"b", 0.5, 0.1}}, thresholds);
    CHECK_FALSE(decision.topic_id);
    CHECK(decision.best_topic_id == "a");
    CHECK(decision.score == 4.9);
  }
  SECTION("too close to the runner-up") {
    const auto decision = PickAnswer({{"a", 9.0, 1.0}, {"b", 7.5, 1.0}}, thresholds);
    CHECK_FALSE(decision.topic_id);
    CHECK(decision.runner_up_score == 7.5);
  }
  SECTION("explaining too little of the question raises the bar") {
    const auto decision = PickAnswer({{"a", 9.0, 0.4}, {"b", 1.0, 0.1}}, thresholds);  // bar 11
    CHECK_FALSE(decision.topic_id);
    CHECK(decision.coverage == 0.4);
    CHECK(PickAnswer({{"a", 11.0, 0.4}, {"b", 1.0, 0.1}}, thresholds).topic_id);
  }
  SECTION("exactly on every bar") {
    CHECK(PickAnswer({{"a", 5.0, 1.0}, {"b", 3.0, 0.5}}, thresholds).topic_id);
  }
  SECTION("nothing found") {
    CHECK(PickAnswer({}, thresholds).best_topic_id.empty());
  }
}

TEST_CASE("a confident answer carries title, summary and a body excerpt", "[answer]") {
  const KnowledgeBase knowledge(Fixture(), AnswerThresholds{1.0, 0.5, 0.5});
  const auto answer = knowledge.Answer("how long should I hold a hamstring stretch?");
  REQUIRE(answer);
  CHECK(answer->topic_id == "stretches");
  CHECK(answer->title == "Stretching routine");
  CHECK(answer->text ==
        "Stretching routine\nHold gentle stretches for 20 to 30 seconds after running, hamstrings and hip flexors "
        "first.\n\nTight hamstrings tug on the pelvis.\n\n• Hamstring stretch, 30 seconds each leg.\n• Kneeling hip "
        "flexor stretch.");
  CHECK(answer->score > 1.0);
}

TEST_CASE("a link in the excerpt keeps only safe targets", "[answer]") {
  const KnowledgeBase knowledge(Fixture(), AnswerThresholds{1.0, 0.5, 0.5});
  const auto answer = knowledge.Answer("when should old shoes be replaced");
  REQUIRE(answer);
  CHECK_THAT(answer->text, Catch::Contains("a fitting guide (https://example.org/fitting)"));
  CHECK_THAT(answer->text, !Catch::Contains("javascript"));
  CHECK_THAT(answer->text, !Catch::Contains("<div>"));
}

TEST_CASE("a weak or ambiguous match gets no answer", "[answer]") {
  // An unreachable bar, and no answer by the classifier's agreement either.
  AnswerThresholds unreachable{1000.0, 0.5, 0.5};
  unreachable.agreement_min_probability = 0;
  const KnowledgeBase strict(Fixture(), unreachable);
  CHECK_FALSE(strict.Answer("how long should I hold a hamstring stretch?"));
  const KnowledgeBase knowledge(Fixture(), AnswerThresholds{1.0, 0.5, 0.5});
  CHECK_FALSE(knowledge.Answer("what will the weather be like on Sunday?"));
  CHECK_FALSE(knowledge.Answer(""));
  const auto decision = strict.Decide("how long should I hold a hamstring stretch?");
  CHECK(decision.best_topic_id == "stretches");
  CHECK_FALSE(decision.topic_id);
}

TEST_CASE("the knowledge base hands out the tailored plan", "[answer]") {
  const KnowledgeBase knowledge(Fixture());
  coach::dialog::PlanRequest request;
  request.runner_type = "beginner";
  const auto messages = knowledge.Plan(request);
  REQUIRE(messages.size() == 4);
  CHECK_THAT(messages[1], Catch::Contains("Brisk walk"));
}

TEST_CASE("the knowledge base serves through the dialog's interface", "[answer]") {
  const KnowledgeBase knowledge(Fixture(), AnswerThresholds{1.0, 0.5, 0.5});
  const coach::dialog::KnowledgeSource& source = knowledge;
  const auto answer = source.Answer("is a corset sensible?");
  REQUIRE(answer);
  CHECK(answer->topic_id == "brace");
}

TEST_CASE("an excerpt never ends on a lead-in that introduces what was cut", "[answer]") {
  const KnowledgeBase knowledge(Fixture());
  coach::knowledge::Topic topic;
  topic.title = "Title";
  topic.summary = "Summary.";
  const std::string list(500, 'x');
  SECTION("a lead-in paragraph before a list too long to fit") {
    topic.body = "First paragraph.\n\nTry these:\n\n• " + list;
    CHECK(knowledge.AnswerText(topic) == "Title\nSummary.\n\nFirst paragraph.");
  }
  SECTION("a lead-in line inside a paragraph cut at a list line") {
    topic.body = "Runners often ask about this. Do these each day:\n• " + list;
    CHECK(knowledge.AnswerText(topic) == "Title\nSummary.\n\nRunners often ask about this.");
  }
}

TEST_CASE("every product answer has an excerpt that ends on a full stop, not a lead-in", "[answer]") {
  const auto knowledge = KnowledgeBase::FromDirectory(std::string(COACH_SOURCE_DIR) + "/content");
  for (const auto& topic : knowledge->content().topics) {
    const std::string text = knowledge->AnswerText(topic);
    INFO(topic.id << ":\n" << text);
    CHECK(text.size() > topic.title.size() + topic.summary.size() + 3);
    CHECK(text.back() != ':');
  }
}
