// PLACEHOLDER: replaced by the real detector (issue 2). Kept only so the tree builds meanwhile.
#include "dialog/red_flag_detector.h"

namespace coach::dialog {
struct RedFlagDetector::Rules {};
RedFlagDetector::RedFlagDetector(std::unique_ptr<Rules> rules) : rules_(std::move(rules)) {}
RedFlagDetector::RedFlagDetector(RedFlagDetector&&) noexcept = default;
RedFlagDetector& RedFlagDetector::operator=(RedFlagDetector&&) noexcept = default;
RedFlagDetector::~RedFlagDetector() = default;
const RedFlagDetector& RedFlagDetector::Default() {
  static const RedFlagDetector detector(std::make_unique<Rules>());
  return detector;
}
RedFlagDetector RedFlagDetector::FromRulesJson(std::string_view) { return RedFlagDetector(std::make_unique<Rules>()); }
TriageDecision RedFlagDetector::Assess(std::string_view) const { return {}; }
}  // namespace coach::dialog
