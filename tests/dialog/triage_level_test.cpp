#include "dialog/triage_level.h"

#include <catch2/catch.hpp>

using coach::dialog::ParseTriageLevel;
using coach::dialog::TriageLevel;

TEST_CASE("triage level names round-trip and order by severity", "[triage_level]") {
  for (auto level : {TriageLevel::not_pain, TriageLevel::self_care, TriageLevel::see_professional, TriageLevel::urgent,
                     TriageLevel::emergency}) {
    REQUIRE(ParseTriageLevel(ToString(level)) == level);
  }
  CHECK_FALSE(ParseTriageLevel("critical").has_value());
  CHECK(std::max(TriageLevel::urgent, TriageLevel::emergency) == TriageLevel::emergency);
  CHECK(RequiresEscalation(TriageLevel::urgent));
  CHECK_FALSE(RequiresEscalation(TriageLevel::see_professional));
}
