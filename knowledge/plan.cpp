#include "knowledge/plan.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "knowledge/content.h"

namespace coach::knowledge {
namespace {

// nlohmann/json checks the syntax (strict JSON, byte offset of the fault); the structure is then read through
// yaml-cpp, whose nodes remember their line (JSON is valid YAML), so that a missing field names its line too.
YAML::Node ParseJsonWithLines(const std::string& json_text, const std::filesystem::path& file) {
  try {
    const auto document = nlohmann::json::parse(json_text);
    (void)document;
  } catch (const nlohmann::json::parse_error& error) {
    const auto end = std::min<std::size_t>(error.byte == 0 ? 0 : error.byte - 1, json_text.size());
    const int line = 1 + static_cast<int>(std::count(json_text.begin(), json_text.begin() + end, '\n'));
    std::string message = error.what();
    const auto detail = message.find("parse error");
    throw ContentError(file, line, "bad JSON: " + (detail == std::string::npos ? message : message.substr(detail)));
  }
  try {
    return YAML::Load(json_text);
  } catch (const YAML::Exception& error) {
    throw ContentError(file, error.mark.line + 1, "unreadable JSON: " + error.msg);
  }
}

int LineOf(const YAML::Node& node) {
  return node.Mark().line + 1;
}

class Reader {
 public:
  explicit Reader(const std::filesystem::path& file) : file_(file) {}

  [[noreturn]] void Fail(const YAML::Node& node, const std::string& message) const {
    throw ContentError(file_, LineOf(node), message);
  }

  void RequireMap(const YAML::Node& node, const std::string& what) const {
    if (!node.IsMap()) Fail(node, what + " must be a JSON object");
  }

  std::string Text(const YAML::Node& map, const std::string& key, bool required) const {
    const YAML::Node node = map[key];
    if (!node || node.IsNull()) {
      if (required) Fail(map, "missing field '" + key + "'");
      return "";
    }
    if (!node.IsScalar()) Fail(node, "field '" + key + "' must be text");
    const std::string value = node.as<std::string>();
    if (required && value.find_first_not_of(" \t\r\n") == std::string::npos) Fail(node, "field '" + key + "' is empty");
    return value;
  }

  std::optional<int> Integer(const YAML::Node& map, const std::string& key, bool required, int minimum) const {
    const YAML::Node node = map[key];
    if (!node || node.IsNull()) {
      if (required) Fail(map, "missing field '" + key + "'");
      return std::nullopt;
    }
    int value = 0;
    if (!node.IsScalar() || !YAML::convert<int>::decode(node, value))
      Fail(node, "field '" + key + "' must be a whole number");
    if (value < minimum) Fail(node, "field '" + key + "' must be at least " + std::to_string(minimum));
    return value;
  }

  PlanActivity Activity(const YAML::Node& node) const {
    RequireMap(node, "an activity");
    PlanActivity activity;
    activity.name = Text(node, "name", true);
    if (const YAML::Node duration = node["duration_min"]; duration && !duration.IsNull()) {
      int low = 0;
      int high = 0;
      if (!duration.IsSequence() || duration.size() != 2 || !YAML::convert<int>::decode(duration[0], low) ||
          !YAML::convert<int>::decode(duration[1], high) || low < 0 || high < low) {
        Fail(duration, "'duration_min' must be [low, high] in whole minutes, low <= high");
      }
      activity.duration_minutes = std::make_pair(low, high);
    }
    activity.sets = Integer(node, "sets", false, 1);
    if (const YAML::Node reps = node["reps"]; reps && !reps.IsNull()) {
      if (!reps.IsScalar()) Fail(reps, "field 'reps' must be a number or text");
      activity.reps = reps.as<std::string>();
    }
    activity.hold_seconds = Integer(node, "hold_seconds", false, 1);
    activity.intensity = Text(node, "intensity", false);
    activity.notes = Text(node, "notes", false);
    activity.per = Text(node, "per", false);
    return activity;
  }

 private:
  std::filesystem::path file_;
};

std::string Plural(int count, const char* one, const char* many) {
  return std::to_string(count) + " " + (count == 1 ? one : many);
}

}  // namespace

RecoveryPlan ParsePlan(const std::string& json_text, const std::filesystem::path& file) {
  const YAML::Node root = ParseJsonWithLines(json_text, file);
  const Reader reader(file);
  reader.RequireMap(root, "a plan");
  RecoveryPlan plan;
  plan.id = reader.Text(root, "id", true);
  plan.title = reader.Text(root, "title", true);
  plan.intro = reader.Text(root, "intro", true);
  plan.closing = reader.Text(root, "closing", true);
  const YAML::Node days = root["days"];
  if (!days) reader.Fail(root, "missing field 'days'");
  if (!days.IsSequence() || days.size() == 0) reader.Fail(days, "'days' must be a non-empty list");
  for (const auto& day_node : days) {
    reader.RequireMap(day_node, "a day");
    PlanDay day;
    day.day = *reader.Integer(day_node, "day", true, 1);
    if (day.day != static_cast<int>(plan.days.size()) + 1) {
      reader.Fail(day_node, "day " + std::to_string(day.day) + " out of order: expected day " +
                                std::to_string(plan.days.size() + 1));
    }
    day.title = reader.Text(day_node, "title", true);
    const YAML::Node activities = day_node["activities"];
    if (!activities) reader.Fail(day_node, "missing field 'activities'");
    if (!activities.IsSequence() || activities.size() == 0) {
      reader.Fail(activities, "'activities' must be a non-empty list");
    }
    for (const auto& activity : activities) day.activities.push_back(reader.Activity(activity));
    plan.days.push_back(std::move(day));
  }
  return plan;
}

PlanVariations ParsePlanVariations(const std::string& json_text, const std::filesystem::path& file,
                                   const std::map<int, RecoveryPlan>& plans_by_week) {
  const YAML::Node root = ParseJsonWithLines(json_text, file);
  const Reader reader(file);
  reader.RequireMap(root, "the variations");
  PlanVariations variations;
  const std::pair<const char*, std::map<std::string, std::vector<PlanVariation>>*> sections[] = {
      {"runner_type", &variations.by_runner_type}, {"pain_level", &variations.by_pain_level}};
  for (const auto& [section_name, target] : sections) {
    const YAML::Node section = root[section_name];
    if (!section) continue;
    reader.RequireMap(section, std::string("'") + section_name + "'");
    for (const auto& entry : section) {
      const std::string key = entry.first.as<std::string>();
      // One variation object, or a list of them (e.g. one per week).
      std::vector<YAML::Node> nodes;
      if (entry.second.IsSequence()) {
        for (const auto& node : entry.second) nodes.push_back(node);
      } else {
        nodes.push_back(entry.second);
      }
      for (const auto& node : nodes) {
        reader.RequireMap(node, "variation '" + key + "'");
        PlanVariation variation;
        variation.note = reader.Text(node, "note", false);
        variation.week = reader.Integer(node, "week", false, 1);
        if (variation.week && plans_by_week.count(*variation.week) == 0) {
          reader.Fail(node["week"], "no plan for week " + std::to_string(*variation.week));
        }
        if (const YAML::Node replace = node["replace"]; replace && !replace.IsNull()) {
          if (!replace.IsSequence()) reader.Fail(replace, "'replace' must be a list");
          for (const auto& item : replace) {
            reader.RequireMap(item, "a replacement");
            ActivityReplacement replacement;
            replacement.day = *reader.Integer(item, "day", true, 1);
            replacement.activity_index = *reader.Integer(item, "activity_index", true, 0);
            const YAML::Node with = item["with"];
            if (!with) reader.Fail(item, "missing field 'with'");
            replacement.with = reader.Activity(with);
            if (const std::string title = reader.Text(item, "day_title", false); !title.empty()) {
              replacement.day_title = title;
            }
            for (const auto& [week, plan] : plans_by_week) {
              if (variation.week && *variation.week != week) continue;
              const auto day = static_cast<std::size_t>(replacement.day);
              if (day > plan.days.size() ||
                  static_cast<std::size_t>(replacement.activity_index) >= plan.days[day - 1].activities.size()) {
                reader.Fail(item, "day " + std::to_string(replacement.day) + " activity " +
                                      std::to_string(replacement.activity_index) + " does not exist in week " +
                                      std::to_string(week));
              }
            }
            variation.replacements.push_back(std::move(replacement));
          }
        }
        if (variation.note.empty() && variation.replacements.empty()) {
          reader.Fail(node, "variation '" + key + "' has neither a note nor replacements");
        }
        (*target)[key].push_back(std::move(variation));
      }
    }
  }
  return variations;
}

std::string PainLevelOf(const dialog::PlanRequest& request) {
  if (request.pain_rises_after_running || (request.pain_score && *request.pain_score >= 3)) return "moderate";
  if (request.pain_score) return "mild";
  return "";
}

TailoredPlan TailorPlan(const std::map<int, RecoveryPlan>& plans_by_week, const PlanVariations& variations,
                        const dialog::PlanRequest& request) {
  auto plan = plans_by_week.find(request.week);
  if (plan == plans_by_week.end()) plan = plans_by_week.begin();
  TailoredPlan tailored{plan->second, {}};
  const int week = plan->first;
  auto apply = [&](const std::map<std::string, std::vector<PlanVariation>>& section, const std::string& key) {
    const auto found = section.find(key);
    if (key.empty() || found == section.end()) return;
    for (const auto& variation : found->second) {
      if (variation.week && *variation.week != week) continue;
      if (!variation.note.empty()) tailored.notes.push_back(variation.note);
      for (const auto& replacement : variation.replacements) {
        auto& day = tailored.plan.days[static_cast<std::size_t>(replacement.day - 1)];
        day.activities[static_cast<std::size_t>(replacement.activity_index)] = replacement.with;
        if (replacement.day_title) day.title = *replacement.day_title;
      }
    }
  };
  apply(variations.by_runner_type, request.runner_type);
  // Pain comes last: a runner in more pain gets the gentler activity whatever their type.
  apply(variations.by_pain_level, PainLevelOf(request));
  return tailored;
}

std::string RenderActivity(const PlanActivity& activity) {
  std::vector<std::string> parts;
  if (activity.duration_minutes) {
    const auto [low, high] = *activity.duration_minutes;
    parts.push_back((low == high ? std::to_string(low) : std::to_string(low) + "-" + std::to_string(high)) + " min");
  }
  const std::string per = activity.per.empty() ? "" : " per " + activity.per;
  if (activity.sets && activity.reps) {
    parts.push_back(std::to_string(*activity.sets) + " × " + *activity.reps + per);
  } else if (activity.sets) {
    parts.push_back(Plural(*activity.sets, "set", "sets") + per);
  } else if (activity.reps) {
    parts.push_back(*activity.reps + " reps" + per);
  }
  if (activity.hold_seconds) {
    parts.push_back("hold " + std::to_string(*activity.hold_seconds) + " s" +
                    (activity.sets || activity.reps ? "" : per));
  }
  if (!activity.intensity.empty()) parts.push_back(activity.intensity);
  std::string line = activity.name;
  for (std::size_t i = 0; i < parts.size(); ++i) line += (i == 0 ? ": " : ", ") + parts[i];
  if (!activity.notes.empty()) line += " (" + activity.notes + ")";
  return line;
}

std::vector<std::string> RenderPlanMessages(const TailoredPlan& tailored) {
  std::vector<std::string> messages;
  std::string intro = tailored.plan.title + "\n" + tailored.plan.intro;
  for (const auto& note : tailored.notes) intro += "\n\n" + note;
  messages.push_back(intro);
  for (const auto& day : tailored.plan.days) {
    std::string message = "Day " + std::to_string(day.day) + ": " + day.title;
    for (const auto& activity : day.activities) message += "\n• " + RenderActivity(activity);
    messages.push_back(message);
  }
  messages.push_back(tailored.plan.closing);
  return messages;
}

}  // namespace coach::knowledge
