#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dialog/triage_level.h"

namespace coach::testing {

/// One line of a labelled triage set in tests/data/ (`{"text", "level", "negated"}`).
struct LabelledMessage {
  std::string text;
  dialog::TriageLevel level;
  bool negated;
};

/// Reads a labelled set; `relative_path` is relative to the source tree ("tests/data/triage_set.jsonl").
inline std::vector<LabelledMessage> LoadLabelledMessages(const std::string& relative_path) {
  std::ifstream file(std::string(COACH_SOURCE_DIR) + "/" + relative_path);
  REQUIRE(file.good());
  std::vector<LabelledMessage> set;
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty()) continue;
    const auto row = nlohmann::json::parse(line);
    const auto level = dialog::ParseTriageLevel(row.at("level").get<std::string>());
    REQUIRE(level.has_value());
    set.push_back({row.at("text").get<std::string>(), *level, row.at("negated").get<bool>()});
  }
  return set;
}

}  // namespace coach::testing
