#include "dialog/question_catalog.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace coach::dialog;

TEST_CASE("a quick reply is read by its value or its label, whatever the case and punctuation", "[catalog]") {
  const Question* duration = FindQuestion("pain_duration");
  REQUIRE(duration != nullptr);
  CHECK(ReadAnswer(*duration, "weeks") == std::optional<std::string>("weeks"));
  CHECK(ReadAnswer(*duration, "1 to 4 weeks") == std::optional<std::string>("weeks"));
  CHECK(ReadAnswer(*duration, "  A FEW DAYS! ") == std::optional<std::string>("days"));
  CHECK(ReadAnswer(*duration, "since the weekend") == std::optional<std::string>("days"));  // a keyword
  CHECK_FALSE(ReadAnswer(*duration, "purple"));
}

TEST_CASE("the catalogue's prepared option phrases read exactly as normalizing on the fly does", "[catalog]") {
  // Questions() normalizes each option's value and label once; a question built elsewhere has none prepared.
  for (const auto& prepared : Questions()) {
    REQUIRE(prepared.normalized_options.size() == prepared.options.size());
    Question unprepared = prepared;
    unprepared.normalized_options.clear();
    std::vector<std::string> inputs = {"yes", "No.", "maybe", "3/10", "I don't know", ""};
    for (const auto& option : prepared.options) {
      inputs.push_back(option.value);
      inputs.push_back(option.label);
      inputs.push_back("  " + option.label + "!!");
    }
    for (const auto& input : inputs) {
      INFO(prepared.id << ": '" << input << "'");
      CHECK(ReadAnswer(prepared, input) == ReadAnswer(unprepared, input));
    }
  }
}

TEST_CASE("a runner message is read once into its words and their normal form", "[catalog]") {
  const RunnerText text("  No!! It's NOT getting worse, coach?");
  CHECK(text.text == "  No!! It's NOT getting worse, coach?");
  CHECK(text.words == std::vector<std::string>{"no", "it's", "not", "getting", "worse", "coach"});
  CHECK(text.normalized == "no it's not getting worse coach");
  CHECK(RunnerText("?!").words.empty());
  CHECK(RunnerText("?!").normalized.empty());
  // The readers answer the same from the text read once as from the raw text.
  const RunnerText restart("Start over.");
  CHECK(IsRestartCommand(restart));
  CHECK(IsRestartCommand("Start over."));
  CHECK(IsCoachRequest(RunnerText("I want to talk to a coach please")));
  CHECK(LooksLikeQuestion(RunnerText("how long until I can run")));
  CHECK_FALSE(LooksLikeQuestion(RunnerText("about two weeks")));
}
