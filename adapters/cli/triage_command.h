#pragma once

#include <iosfwd>

namespace coach::adapters::cli {

/// The body of `coachbot triage`: one JSON object per input line ({"text": ...}) in, one decision (or an
/// {"error": "line N: ..."} object) per line out, in order. Blank lines are skipped. Returns 1 when any line was
/// malformed, 0 otherwise; every line is answered either way.
int RunTriage(std::istream& in, std::ostream& out);

}  // namespace coach::adapters::cli
