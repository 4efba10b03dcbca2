#include "knowledge/plan.h"

#include <catch2/catch.hpp>

#include "tests/knowledge/temporary_content.h"

using coach::dialog::PlanRequest;
using coach::knowledge::PlanActivity;
using coach::knowledge::RenderActivity;
using coach::knowledge::RenderPlanMessages;
using coach::knowledge::TailorPlan;
using coach::knowledge::testing::TemporaryContent;

namespace {

const coach::knowledge::Content& Fixture() {
  static const auto content = coach::knowledge::LoadContent(TemporaryContent::FixtureDir(), TemporaryContent::Rules());
  return content;
}

std::vector<std::string> Messages(const PlanRequest& request) {
  return RenderPlanMessages(TailorPlan(Fixture().plans_by_week, Fixture().variations, request));
}

PlanRequest Request(const std::string& runner_type, std::optional<int> pain, bool rising, int week) {
  PlanRequest request;
  request.runner_type = runner_type;
  request.pain_score = pain;
  request.pain_rises_after_running = rising;
  request.week = week;
  return request;
}

}  // namespace

TEST_CASE("an activity renders duration, sets, reps, hold, intensity and notes", "[plan]") {
  PlanActivity walk;
  walk.name = "Walk";
  walk.duration_minutes = std::make_pair(20, 30);
  walk.intensity = "easy";
  CHECK(RenderActivity(walk) == "Walk: 20-30 min, easy");
  PlanActivity bird_dog;
  bird_dog.name = "Bird dog";
  bird_dog.sets = 2;
  bird_dog.reps = "8";
  bird_dog.per = "side";
  bird_dog.hold_seconds = 5;
  bird_dog.notes = "slowly";
  CHECK(RenderActivity(bird_dog) == "Bird dog: 2 × 8 per side, hold 5 s (slowly)");
  PlanActivity plank;
  plank.name = "Side plank";
  plank.hold_seconds = 20;
  plank.per = "side";
  CHECK(RenderActivity(plank) == "Side plank: hold 20 s per side");
  PlanActivity rest;
  rest.name = "Rest";
  CHECK(RenderActivity(rest) == "Rest");
}

TEST_CASE("the week-1 plan is an intro, one message per day and the closing", "[plan]") {
  const auto messages = Messages(Request("", std::nullopt, false, 1));
  REQUIRE(messages.size() == 4);
  CHECK(messages[0] == "Week 1: calm it down\nSeven easy days.");
  CHECK(messages[1] == "Day 1: Walk and breathe\n• Walk: 20-30 min, easy\n• Bird dog: 2 × 8 per side, hold 5 s");
  CHECK(messages[2] == "Day 2: Rest\n• Rest day (gentle walking is fine)");
  CHECK(messages[3] == "Tell me how it went.");
}

TEST_CASE("a beginner gets the beginner variation and its note", "[plan]") {
  const auto messages = Messages(Request("beginner", 1, false, 1));
  REQUIRE(messages.size() == 4);
  CHECK(messages[0] == "Week 1: calm it down\nSeven easy days.\n\nBeginners keep every walk brisk, not fast.");
  CHECK_THAT(messages[1], Catch::StartsWith("Day 1: Walk and breathe\n• Brisk walk: 15-20 min\n• Bird dog"));
}

TEST_CASE("other runner types get the plain plan", "[plan]") {
  CHECK(Messages(Request("distance", 1, false, 1)) == Messages(Request("", std::nullopt, false, 1)));
}

TEST_CASE("moderate pain changes week 2 only, by score or by rising pain", "[plan]") {
  const auto calm = Messages(Request("", 2, false, 2));
  CHECK(calm[1] == "Day 1: Walk-run\n• Walk-run: 20 min, conversational");
  for (const auto& request : {Request("", 4, false, 2), Request("", 1, true, 2)}) {
    const auto messages = Messages(request);
    CHECK_THAT(messages[0], Catch::EndsWith("Your pain is 3/10 or more: no running this week."));
    // The swap renames the day: a day titled "Walk-run" with no running in it would contradict itself.
    CHECK(messages[1] == "Day 1: Walk instead of running\n• Walk: 20-25 min, easy");
  }
  // The variation is for week 2: week 1 stays as it is.
  CHECK(Messages(Request("", 5, false, 1)) == Messages(Request("", std::nullopt, false, 1)));
}

TEST_CASE("a replacement without a day title keeps the day's title", "[plan]") {
  CHECK_THAT(Messages(Request("beginner", 1, false, 1))[1], Catch::StartsWith("Day 1: Walk and breathe\n"));
}

TEST_CASE("the product's moderate-pain plan titles its run days as cross-training", "[plan]") {
  const auto content = coach::knowledge::LoadContent(std::string(COACH_SOURCE_DIR) + "/content");
  for (int week : {1, 2}) {
    const auto tailored = TailorPlan(content.plans_by_week, content.variations, Request("", 5, false, week));
    for (int day : {3, 6}) {
      const auto& plan_day = tailored.plan.days[static_cast<std::size_t>(day - 1)];
      INFO("week " << week << " day " << day);
      CHECK_THAT(plan_day.title, Catch::StartsWith("Cross-training"));
      for (const auto& activity : plan_day.activities) CHECK_THAT(activity.name, !Catch::Contains("jog"));
    }
  }
}

TEST_CASE("pain level follows the 3/10 rule", "[plan]") {
  CHECK(coach::knowledge::PainLevelOf(Request("", 3, false, 1)) == "moderate");
  CHECK(coach::knowledge::PainLevelOf(Request("", 2, true, 1)) == "moderate");
  CHECK(coach::knowledge::PainLevelOf(Request("", 2, false, 1)) == "mild");
  CHECK(coach::knowledge::PainLevelOf(Request("", std::nullopt, false, 1)).empty());
}

TEST_CASE("an unknown week falls back to the first plan", "[plan]") {
  CHECK(Messages(Request("", std::nullopt, false, 7)) == Messages(Request("", std::nullopt, false, 1)));
}
