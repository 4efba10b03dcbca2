#include "dialog/triage_level.h"

#include "dialog/enum_names.h"

namespace coach::dialog {
namespace {
constexpr EnumNames<TriageLevel, 5> kNames{{{
    {TriageLevel::not_pain, "not_pain"},
    {TriageLevel::self_care, "self_care"},
    {TriageLevel::see_professional, "see_professional"},
    {TriageLevel::urgent, "urgent"},
    {TriageLevel::emergency, "emergency"},
}}};
}  // namespace

std::string_view ToString(TriageLevel level) {
  return kNames.NameOf(level).value_or("not_pain");
}

std::optional<TriageLevel> ParseTriageLevel(std::string_view name) {
  return kNames.ValueOf(name);
}

bool RequiresEscalation(TriageLevel level) {
  return level == TriageLevel::urgent || level == TriageLevel::emergency;
}

}  // namespace coach::dialog
