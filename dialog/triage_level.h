#pragma once

#include <optional>
#include <string_view>

namespace coach::dialog {

/// How urgently a runner needs care, from the medical spec (docs/triage.md). Ordered by severity so that
/// `std::max` of two levels is the more urgent one.
enum class TriageLevel {
  not_pain = 0,          ///< no symptom described (a question, chit-chat, a plan request)
  self_care = 1,         ///< mechanical pain, no flags: the 1-week plan and advice
  see_professional = 2,  ///< stop running, book a physiotherapist or doctor; a coach is offered
  urgent = 3,            ///< see a doctor today, stop running; a coach is called in
  emergency = 4,         ///< emergency services or the emergency department now; a coach is called in
};

/// The stable wire name ("see_professional"), used in JSON, the database and logs.
std::string_view ToString(TriageLevel level);
/// Inverse of ToString; nullopt for an unknown name.
std::optional<TriageLevel> ParseTriageLevel(std::string_view name);
/// Emergency and urgent levels hand the conversation to a coach at once.
bool RequiresEscalation(TriageLevel level);

}  // namespace coach::dialog
