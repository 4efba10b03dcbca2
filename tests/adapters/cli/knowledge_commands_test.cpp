// `coachbot index` and `coachbot ask` (plain and --jsonl) run as the real binary on the real content, the way a
// content author or an evaluation script uses them.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

struct CommandRun {
  std::string output;  ///< stdout, and stderr too when the command redirects it
  int exit_code = -1;
};

CommandRun Run(const std::string& arguments) {
  const std::string command = std::string(COACHBOT_BINARY) + " " + arguments;
  CommandRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[8192];
  std::size_t read = 0;
  while ((read = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) run.output.append(buffer, read);
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::string Content() {
  return std::string(" --content ") + COACH_SOURCE_DIR + "/content";
}

std::filesystem::path WriteLines(const std::vector<std::string>& lines) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("coachbot-ask-" + std::to_string(::getpid()) + "-" + std::to_string(rand()) + ".jsonl");
  std::ofstream out(path);
  for (const auto& line : lines) out << line << "\n";
  return path;
}

std::vector<nlohmann::json> JsonLines(const std::string& output) {
  std::vector<nlohmann::json> lines;
  std::size_t start = 0;
  while (start < output.size()) {
    auto end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    if (end > start) lines.push_back(nlohmann::json::parse(output.substr(start, end - start)));
    start = end + 1;
  }
  return lines;
}

}  // namespace

TEST_CASE("index loads the product content and prints what it holds", "[cli][knowledge]") {
  const auto run = Run("index" + Content());
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.output, Catch::Contains("topics: 17\n"));
  CHECK_THAT(run.output, Catch::Contains("plan weeks: 2\n"));
  CHECK_THAT(run.output, Catch::Contains("synonym groups: "));
  CHECK_THAT(run.output, Catch::Contains("built in "));
}

TEST_CASE("index on broken content names the problem and exits 1", "[cli][knowledge]") {
  const auto run = Run("index --content /nonexistent/content 2>&1");
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.output, Catch::Contains("coachbot index: "));
}

TEST_CASE("ask answers a confident question with the topic's text", "[cli][knowledge]") {
  const auto run = Run("ask" + Content() + " 'should i wear a back brace when i run'");
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.output, Catch::StartsWith("Back braces, belts and support\n"));
}

TEST_CASE("ask says it is not sure rather than guess", "[cli][knowledge]") {
  const auto run = Run("ask" + Content() + " 'what will the weather be like on sunday'");
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.output, Catch::StartsWith("I'm not sure about that one"));
}

TEST_CASE("ask without a question prints its usage and exits 2", "[cli][knowledge]") {
  for (const std::string& arguments : {"ask" + Content(), "ask" + Content() + " '  '"}) {
    INFO(arguments);
    const auto run = Run(arguments + " 2>&1 </dev/null");
    CHECK(run.exit_code == 2);
    CHECK_THAT(run.output, Catch::Contains("no question given"));
    CHECK_THAT(run.output, Catch::Contains("usage: coachbot ask"));
  }
}

TEST_CASE("ask --jsonl answers one line per input line, in order, errors included", "[cli][knowledge]") {
  const auto input = WriteLines({R"({"text": "should i wear a back brace when i run"})", "",
                                 R"({"text": "what will the weather be like on sunday"})", "not json",
                                 R"({"question": "wrong field"})", R"({"text": "my knee hurts after runs"})"});
  const auto run = Run("ask --jsonl" + Content() + " < " + input.string());
  std::filesystem::remove(input);
  REQUIRE(run.exit_code == 0);
  const auto lines = JsonLines(run.output);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0]["topic"] == "brace");
  CHECK(lines[0]["score"].get<double>() > 0);
  CHECK_THAT(lines[0]["answer"].get<std::string>(), Catch::StartsWith("Back braces, belts and support\n"));
  CHECK(lines[1]["topic"].is_null());
  CHECK(lines[1]["answer"].is_null());
  CHECK(lines[2]["error"].is_string());
  CHECK(lines[3]["error"].is_string());
  CHECK(lines[3]["topic"].is_null());
  // Another body part without a back word is out of scope.
  CHECK(lines[4]["topic"].is_null());
  CHECK_FALSE(lines[4].contains("error"));
}
