#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dialog/knowledge_source.h"

namespace coach::knowledge {

/// One thing to do on a plan day ("Brisk walk, 20-30 min, easy").
struct PlanActivity {
  std::string name;
  std::optional<std::pair<int, int>> duration_minutes;  ///< [low, high]
  std::optional<int> sets;
  std::optional<std::string> reps;  ///< a number or words ("8 each side")
  std::optional<int> hold_seconds;
  std::string intensity;
  std::string notes;
  std::string per;  ///< what sets/holds count ("side", "leg")
};

struct PlanDay {
  int day = 0;
  std::string title;
  std::vector<PlanActivity> activities;
};

/// A week of the recovery plan, from content/plans/recovery_week<N>.json.
struct RecoveryPlan {
  std::string id;
  std::string title;
  std::string intro;
  std::vector<PlanDay> days;
  std::string closing;
};

/// Swap one activity of one day for another.
struct ActivityReplacement {
  int day = 0;
  int activity_index = 0;  ///< zero-based, into that day's activities
  PlanActivity with;
  /// The day's new title, when the swap changes what the day is ("Walk-run intervals" becoming cross-training).
  std::optional<std::string> day_title;
};

/// How a plan changes for one kind of runner or one pain level.
struct PlanVariation {
  std::string note;  ///< shown after the plan's intro
  std::vector<ActivityReplacement> replacements;
  std::optional<int> week;  ///< only for this week; unset = both weeks
};

/// content/plans/variations.json: variations keyed by runner type and by pain level.
struct PlanVariations {
  std::map<std::string, std::vector<PlanVariation>> by_runner_type;
  std::map<std::string, std::vector<PlanVariation>> by_pain_level;
};

/// Parses a plan file's JSON text; ContentError (file:line) for bad JSON or a missing or mistyped field.
RecoveryPlan ParsePlan(const std::string& json_text, const std::filesystem::path& file);
/// Parses variations.json and checks every replacement points at an existing day and activity of its plans.
PlanVariations ParsePlanVariations(const std::string& json_text, const std::filesystem::path& file,
                                   const std::map<int, RecoveryPlan>& plans_by_week);

/// The pain-level key a request falls under: "moderate" at 3/10 or more or when pain rises after running
/// (the 3/10 rule), "mild" below that, "" when the runner gave no score and no rise.
std::string PainLevelOf(const dialog::PlanRequest& request);

/// The plan for the request's week with the runner-type and pain-level variations applied, plus their notes.
struct TailoredPlan {
  RecoveryPlan plan;
  std::vector<std::string> notes;
};
TailoredPlan TailorPlan(const std::map<int, RecoveryPlan>& plans_by_week, const PlanVariations& variations,
                        const dialog::PlanRequest& request);

/// Chat messages: the title, intro and notes first, one compact message per day, the closing last.
std::vector<std::string> RenderPlanMessages(const TailoredPlan& tailored);
/// One activity as a chat line without the bullet ("Bird dog: 2 × 10 per side, hold 5 s, easy").
std::string RenderActivity(const PlanActivity& activity);

}  // namespace coach::knowledge
