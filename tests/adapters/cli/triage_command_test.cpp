#include "adapters/cli/triage_command.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

using coach::adapters::cli::RunTriage;

namespace {

struct TriageRun {
  std::vector<nlohmann::json> lines;
  int exit_code = -1;
};

TriageRun Run(const std::string& input) {
  std::istringstream in(input);
  std::ostringstream out;
  TriageRun run;
  run.exit_code = RunTriage(in, out);
  std::istringstream written(out.str());
  std::string line;
  while (std::getline(written, line)) run.lines.push_back(nlohmann::json::parse(line));
  return run;
}

}  // namespace

TEST_CASE("triage answers one line per input, in order", "[triage_command]") {
  const auto run =
      Run("{\"text\": \"cant feel my bum on the loo\"}\n"
          "{\"text\": \"hi\"}\n"
          "{\"text\": \"pain is 6/10 and gets worse when i run\"}\n");
  CHECK(run.exit_code == 0);
  REQUIRE(run.lines.size() == 3);
  CHECK(run.lines[0]["level"] == "emergency");
  // The most urgent flag comes first; others may follow ("on the loo" also reads as a toilet change).
  REQUIRE_FALSE(run.lines[0]["flags"].empty());
  CHECK(run.lines[0]["flags"][0] == "saddle_numbness");
  CHECK(run.lines[0]["evidence"].size() == run.lines[0]["flags"].size());
  CHECK(run.lines[1] == nlohmann::json{{"level", "not_pain"},
                                       {"flags", nlohmann::json::array()},
                                       {"evidence", nlohmann::json::array()}});
  CHECK(run.lines[2]["level"] == "see_professional");
  CHECK(run.lines[2]["pain_score"] == 6);
}

TEST_CASE("a malformed line gets an error object and the rest carry on", "[triage_command]") {
  const auto run =
      Run("{\"text\": \"my back is sore\"}\r\n"
          "\n"
          "{\"text\": \"unterminated\n"
          "[\"text\", \"an array\"]\n"
          "{\"message\": \"wrong key\"}\n"
          "{\"text\": 42}\n"
          "{\"text\": \"both legs are numb\"}\n");
  CHECK(run.exit_code == 1);
  REQUIRE(run.lines.size() == 6);
  CHECK(run.lines[0]["level"] == "self_care");
  CHECK(run.lines[1]["error"].get<std::string>().rfind("line 3: not valid JSON", 0) == 0);
  CHECK(run.lines[2]["error"].get<std::string>().rfind("line 4:", 0) == 0);
  CHECK(run.lines[3]["error"].get<std::string>().rfind("line 5:", 0) == 0);
  CHECK(run.lines[4]["error"].get<std::string>().rfind("line 6:", 0) == 0);
  CHECK(run.lines[5]["level"] == "emergency");
}

TEST_CASE("triage copes with empty input and odd text", "[triage_command]") {
  CHECK(Run("").exit_code == 0);
  CHECK(Run("").lines.empty());
  const auto run = Run("{\"text\": \"\"}\n{\"text\": \"\\ud83c\\udfc3 \\u0000 numb bum\"}\n");
  CHECK(run.exit_code == 0);
  REQUIRE(run.lines.size() == 2);
  CHECK(run.lines[0]["level"] == "not_pain");
  CHECK(run.lines[1]["level"] == "emergency");
  const auto invalid_utf8 = Run("{\"text\": \"bad \xFF byte\"}\n");
  CHECK(invalid_utf8.exit_code == 1);
  REQUIRE(invalid_utf8.lines.size() == 1);
  CHECK(invalid_utf8.lines[0].contains("error"));
}
