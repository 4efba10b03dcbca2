#include "adapters/cli/triage_command.h"

#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "adapters/cli/commands.h"
#include "dialog/red_flag_detector.h"

namespace coach::adapters::cli {
namespace {

using Json = nlohmann::json;

Json ErrorLine(std::size_t line_number, const std::string& problem) {
  return Json{{"error", "line " + std::to_string(line_number) + ": " + problem}};
}

Json DecisionLine(const dialog::TriageDecision& decision) {
  Json line{{"level", dialog::ToString(decision.level)}, {"flags", decision.flags}, {"evidence", decision.evidence}};
  if (decision.pain_score) line["pain_score"] = *decision.pain_score;
  return line;
}

}  // namespace

int RunTriage(std::istream& in, std::ostream& out) {
  const auto& detector = dialog::RedFlagDetector::Default();
  bool any_malformed = false;
  std::string line;
  for (std::size_t line_number = 1; std::getline(in, line); ++line_number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    Json answer;
    Json input = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (input.is_discarded()) {
      answer = ErrorLine(line_number, "not valid JSON (expected {\"text\": \"...\"})");
    } else if (!input.is_object() || !input.contains("text") || !input["text"].is_string()) {
      answer = ErrorLine(line_number, "expected an object with a string \"text\"");
    } else {
      answer = DecisionLine(detector.Assess(input["text"].get<std::string>()));
    }
    any_malformed = any_malformed || answer.contains("error");
    // Flushed per line so that a caller can pipe messages in one at a time and read each answer at once.
    out << answer.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n' << std::flush;
  }
  return any_malformed ? 1 : 0;
}

void AddTriageCommand(CLI::App& app) {
  auto* command = app.add_subcommand(
      "triage",
      "Red-flag triage of runner messages. Reads JSON Lines {\"text\": \"...\"} on stdin and writes, in the same "
      "order, one line {\"level\": ..., \"flags\": [...], \"evidence\": [...], \"pain_score\": n (when written)} "
      "per input. Levels: emergency, urgent, see_professional, self_care, not_pain.");
  command->footer(
      "A malformed line gets {\"error\": \"line N: ...\"} on its output line and the rest carry on; the exit code "
      "is 1 when any line was malformed. Example:\n"
      "  echo '{\"text\": \"cant feel my bum on the loo\"}' | coachbot triage");
  command->callback([] {
    if (RunTriage(std::cin, std::cout) != 0) throw CLI::RuntimeError("triage: some input lines were malformed", 1);
  });
}

}  // namespace coach::adapters::cli
