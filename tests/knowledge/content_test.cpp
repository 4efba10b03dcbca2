#include "knowledge/content.h"

#include <catch2/catch.hpp>

#include "tests/knowledge/temporary_content.h"

using coach::knowledge::ContentError;
using coach::knowledge::testing::TemporaryContent;

namespace {

// Loads the content and returns the ContentError's message, or "" when it loaded.
std::string LoadError(const TemporaryContent& content) {
  try {
    (void)content.Load();
  } catch (const ContentError& error) {
    return error.what();
  }
  return "";
}

std::string Location(const TemporaryContent& content, const std::string& relative, int line) {
  return (content.dir() / relative).string() + ":" + std::to_string(line) + ": ";
}

}  // namespace

TEST_CASE("the valid fixture loads with every part", "[content]") {
  TemporaryContent content;
  const auto loaded = content.Load();
  REQUIRE(loaded.topics.size() == 3);
  CHECK(loaded.topics[0].id == "shoes");  // in the order of the rules, not of the folder
  CHECK(loaded.topics[0].title == "Footwear and replacing it");
  CHECK(loaded.topics[0].tags == std::vector<std::string>{"shoes", "footwear", "mileage", "insoles"});
  CHECK(loaded.topics[0].questions.size() == 8);
  CHECK(loaded.topics[0].body.find("• check the midsole for creases") != std::string::npos);
  CHECK(loaded.topics[1].id == "brace");
  CHECK(loaded.synonyms.groups().size() == 4);
  CHECK(loaded.plans_by_week.at(1).days.size() == 2);
  CHECK(loaded.plans_by_week.at(2).days.size() == 1);
  CHECK(loaded.variations.by_runner_type.count("beginner") == 1);
}

TEST_CASE("bad YAML names the file and the line of the fault", "[content]") {
  TemporaryContent content;
  content.Replace("topics/brace.md", "tags: [brace, belt, corset]", "tags: [brace, belt, corset");
  const std::string error = LoadError(content);
  CHECK_THAT(error, Catch::StartsWith((content.dir() / "topics/brace.md").string() + ":"));
  CHECK_THAT(error, Catch::Contains("bad YAML"));
}

TEST_CASE("a missing id is reported at the front matter", "[content]") {
  TemporaryContent content;
  content.Replace("topics/brace.md", "id: brace\n", "");
  CHECK(LoadError(content) == Location(content, "topics/brace.md", 2) + "missing field 'id'");
}

TEST_CASE("a duplicate id names both files", "[content]") {
  TemporaryContent content;
  content.Write("topics/brace_copy.md", content.Read("topics/brace.md"));
  CHECK(LoadError(content) == Location(content, "topics/brace_copy.md", 2) + "duplicate topic id 'brace', also in " +
                                  (content.dir() / "topics/brace.md").string());
}

TEST_CASE("a topic's id must match its file name", "[content]") {
  TemporaryContent content;
  std::filesystem::rename(content.dir() / "topics/stretches.md", content.dir() / "topics/stretching.md");
  CHECK(LoadError(content) ==
        Location(content, "topics/stretching.md", 2) + "topic id 'stretches' does not match the file name");
}

TEST_CASE("an unknown topic id is refused", "[content]") {
  TemporaryContent content;
  content.Write("topics/weather.md", std::string(content.Read("topics/brace.md")).replace(4, 9, "id: weather"));
  CHECK(LoadError(content) == Location(content, "topics/weather.md", 2) + "unknown topic id 'weather'");
}

TEST_CASE("a missing topic is refused rather than served without it", "[content]") {
  TemporaryContent content;
  std::filesystem::remove(content.dir() / "topics/stretches.md");
  CHECK_THAT(LoadError(content), Catch::Contains("missing topic 'stretches'"));
}

TEST_CASE("fewer than eight questions is reported at the questions line", "[content]") {
  TemporaryContent content;
  content.Replace("topics/brace.md", "  - Is it bad to depend on a belt?\n", "");
  CHECK(LoadError(content) ==
        Location(content, "topics/brace.md", 6) + "only 7 example questions, at least 8 are needed");
}

TEST_CASE("an empty body is reported at the line after the front matter", "[content]") {
  TemporaryContent content;
  const std::string text = content.Read("topics/brace.md");
  const auto body = text.find("---\n", 4) + 4;
  content.Write("topics/brace.md", text.substr(0, body) + "\n   \n<!-- only a comment -->\n");
  CHECK(LoadError(content) == Location(content, "topics/brace.md", 16) + "the Markdown body is empty");
}

TEST_CASE("front matter that is not closed is an error", "[content]") {
  TemporaryContent content;
  content.Write("topics/brace.md", "---\nid: brace\ntitle: x\n");
  CHECK_THAT(LoadError(content), Catch::Contains("front matter is not closed"));
}

TEST_CASE("an empty summary names its line", "[content]") {
  TemporaryContent content;
  content.Replace("topics/stretches.md", "summary: Hold gentle", "summary: \"\"\nx: Hold gentle");
  CHECK(LoadError(content) == Location(content, "topics/stretches.md", 14) + "field 'summary' is empty");
}

TEST_CASE("bad plan JSON names the line of the syntax error", "[content]") {
  TemporaryContent content;
  content.Replace("plans/recovery_week1.json", "\"intensity\": \"easy\"}", "\"intensity\": \"easy\",}");
  const std::string error = LoadError(content);
  CHECK_THAT(error, Catch::StartsWith(Location(content, "plans/recovery_week1.json", 7) + "bad JSON"));
}

TEST_CASE("a plan field of the wrong type names its line", "[content]") {
  TemporaryContent content;
  content.Replace("plans/recovery_week1.json", "\"sets\": 2", "\"sets\": \"two\"");
  CHECK(LoadError(content) ==
        Location(content, "plans/recovery_week1.json", 8) + "field 'sets' must be a whole number");
}

TEST_CASE("a plan activity without a name names the activity's line", "[content]") {
  TemporaryContent content;
  content.Replace("plans/recovery_week2.json", "\"name\": \"Walk-run\", ", "");
  CHECK(LoadError(content) == Location(content, "plans/recovery_week2.json", 7) + "missing field 'name'");
}

TEST_CASE("a missing plan file is an error", "[content]") {
  TemporaryContent content;
  std::filesystem::remove(content.dir() / "plans/recovery_week2.json");
  CHECK_THAT(LoadError(content), Catch::Contains("recovery_week2.json:0: cannot read the file"));
}

TEST_CASE("a variation pointing at a missing activity is refused", "[content]") {
  TemporaryContent content;
  content.Replace("plans/variations.json", "\"day\": 1, \"activity_index\": 0, \"with\": {\"name\": \"Brisk",
                  "\"day\": 1, \"activity_index\": 5, \"with\": {\"name\": \"Brisk");
  CHECK(LoadError(content) ==
        Location(content, "plans/variations.json", 4) + "day 1 activity 5 does not exist in week 1");
}

TEST_CASE("a synonym group of one term names its line", "[content]") {
  TemporaryContent content;
  content.Write("synonyms.txt", "shoes, trainers\n\n# comment\nlonely\n");
  CHECK(LoadError(content) == Location(content, "synonyms.txt", 4) + "a synonym group needs at least two terms");
}

TEST_CASE("the product's rules ask for the 17 topics of issue 3", "[content]") {
  const auto rules = coach::knowledge::ContentRules::Product();
  CHECK(rules.topic_ids.size() == 17);
  CHECK(rules.min_questions == 8);
}
