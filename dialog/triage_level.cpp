#include "dialog/triage_level.h"

#include <array>
#include <utility>

namespace coach::dialog {
namespace {
constexpr std::array<std::pair<TriageLevel, std::string_view>, 5> kNames{{
    {TriageLevel::not_pain, "not_pain"},
    {TriageLevel::self_care, "self_care"},
    {TriageLevel::see_professional, "see_professional"},
    {TriageLevel::urgent, "urgent"},
    {TriageLevel::emergency, "emergency"},
}};
}  // namespace

std::string_view ToString(TriageLevel level) {
  for (const auto& [value, name] : kNames) {
    if (value == level) return name;
  }
  return "not_pain";
}

std::optional<TriageLevel> ParseTriageLevel(std::string_view name) {
  for (const auto& [value, known] : kNames) {
    if (known == name) return value;
  }
  return std::nullopt;
}

bool RequiresEscalation(TriageLevel level) {
  return level == TriageLevel::urgent || level == TriageLevel::emergency;
}

}  // namespace coach::dialog
