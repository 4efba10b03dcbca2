// coach_train_wording_model: trains dialog/emergency_wording_model.txt on labelled JSON Lines sets
// ({"text", "level", ...}; level "emergency" is the positive class). Offline only; docs/triage.md says how.
//
//   build/dialog/coach_train_wording_model --threshold 0.9 --out dialog/emergency_wording_model.txt
//       tests/data/triage_set.jsonl tests/data/triage_holdout*.jsonl   (one command line)

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dialog/emergency_wording_model.h"
#include "dialog/red_flag_detector.h"

namespace {

constexpr double kMinStoredWeight = 0.002;  // smaller weights change no decision and only bloat the file

int Usage() {
  std::cerr << "usage: coach_train_wording_model --threshold P --out FILE SET.jsonl...\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  double threshold = -1.0;
  std::string out_path;
  std::vector<std::string> sets;
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    if (argument == "--threshold" && i + 1 < argc) {
      threshold = std::stod(argv[++i]);
    } else if (argument == "--out" && i + 1 < argc) {
      out_path = argv[++i];
    } else if (!argument.empty() && argument[0] != '-') {
      sets.push_back(argument);
    } else {
      return Usage();
    }
  }
  if (threshold <= 0.0 || threshold > 1.0 || out_path.empty() || sets.empty()) return Usage();

  // Rules only: the clauses and negation marks must not depend on the model being trained.
  const auto rules = coach::dialog::RedFlagDetector::FromRulesJson(coach::dialog::RedFlagDetector::EmbeddedRulesJson());
  std::vector<coach::dialog::WordingExample> examples;
  for (const std::string& path : sets) {
    std::ifstream file(path);
    if (!file) {
      std::cerr << "cannot read " << path << "\n";
      return 1;
    }
    std::string line;
    while (std::getline(file, line)) {
      if (line.empty()) continue;
      const auto row = nlohmann::json::parse(line);
      examples.push_back({rules.MarkClauses(row.at("text").get<std::string>()), row.at("level") == "emergency"});
    }
  }
  auto model = coach::dialog::EmergencyWordingModel::Train(examples, {});
  model.set_threshold(threshold);
  std::ofstream out(out_path);
  out << model.ToText(kMinStoredWeight);
  if (!out) {
    std::cerr << "cannot write " << out_path << "\n";
    return 1;
  }
  std::cerr << "trained on " << examples.size() << " messages, " << model.feature_count() << " features\n";
  return 0;
}
