// `coachbot chat --json` driven as a script, the way an operator or a CI job would: the real binary, real content.
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

struct ChatRun {
  std::vector<nlohmann::json> replies;
  int exit_code = -1;
};

ChatRun RunChat(const std::vector<std::string>& lines) {
  const auto input = std::filesystem::temp_directory_path() /
                     ("coachbot-chat-" + std::to_string(::getpid()) + "-" + std::to_string(rand()) + ".txt");
  {
    std::ofstream out(input);
    for (const auto& line : lines) out << line << "\n";
  }
  const std::string command =
      std::string(COACHBOT_BINARY) + " chat --json --content " + COACH_SOURCE_DIR + "/content < " + input.string();
  ChatRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string line;
  char buffer[8192];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) {
    line += buffer;
    if (!line.empty() && line.back() == '\n') {
      run.replies.push_back(nlohmann::json::parse(line));
      line.clear();
    }
  }
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::filesystem::remove(input);
  return run;
}

bool HasKind(const ChatRun& run, const std::string& kind) {
  for (const auto& reply : run.replies) {
    if (reply["kind"] == kind) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("chat --json walks from the greeting to the plan", "[cli][chat]") {
  const auto run = RunChat({"My back hurts when I run",
                            "no",
                            "no",
                            "no",
                            "no",
                            "no",
                            "no",
                            "no",
                            "no",
                            "no",
                            "low back, in the middle",
                            "A few days",
                            "2",
                            "no",
                            "New to running",
                            "Run without pain",
                            "3-4 days",
                            "yes",
                            "no",
                            "no",
                            "yes"});
  REQUIRE(run.exit_code == 0);
  REQUIRE(run.replies.size() > 20);
  for (const auto& reply : run.replies) {
    REQUIRE(reply.contains("text"));
    REQUIRE(reply["quick_replies"].is_array());
    REQUIRE(reply["state"].is_string());
    REQUIRE(reply.contains("level"));
  }
  CHECK(run.replies.front()["state"] == "greeting");
  CHECK(run.replies.front()["level"].is_null());
  CHECK(HasKind(run, "plan"));
  const auto& last = run.replies.back();
  CHECK(last["state"] == "menu");
  CHECK(last["level"] == "self_care");
  CHECK(last["quick_replies"].size() == 5);
  // The plan for a beginner: the recovery week, day by day.
  std::string plan_text;
  for (const auto& reply : run.replies) {
    if (reply["kind"] == "plan") plan_text += reply["text"].get<std::string>();
  }
  CHECK(plan_text.find("Day 1") != std::string::npos);
  CHECK(plan_text.find("Day 7") != std::string::npos);
}

TEST_CASE("chat --json escalates from the middle of intake", "[cli][chat]") {
  const auto run = RunChat({"pain", "no", "no", "no", "no", "no", "no", "no", "no", "no", "low back",
                            "actually since yesterday both my legs feel numb and I can't pee properly"});
  REQUIRE(run.exit_code == 0);
  const auto& last = run.replies.back();
  CHECK(last["state"] == "waiting_for_coach");
  CHECK(last["level"] == "emergency");
  CHECK(HasKind(run, "emergency"));
  bool names_number = false;
  for (const auto& reply : run.replies) {
    if (reply["kind"] == "emergency") {
      names_number = reply["text"].get<std::string>().find("999, 911 or 112") != std::string::npos;
    }
  }
  CHECK(names_number);
}

TEST_CASE("chat --json accepts quick replies by label or by value", "[cli][chat]") {
  const auto by_value = RunChat({"question"});
  const auto by_label = RunChat({"I have a question"});
  REQUIRE(by_value.exit_code == 0);
  CHECK(by_value.replies.back()["state"] == "question");
  CHECK(by_label.replies.back()["state"] == "question");
}

TEST_CASE("chat refuses to start on a missing content directory", "[cli][chat]") {
  const std::string command =
      std::string(COACHBOT_BINARY) + " chat --json --content /nonexistent/content </dev/null 2>/dev/null";
  const int status = std::system(command.c_str());
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
}
