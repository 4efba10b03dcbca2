#include "knowledge/scope_check.h"

#include <catch2/catch.hpp>

#include "knowledge/query_builder.h"

using coach::knowledge::QueryBuilder;
using coach::knowledge::ScopeCheck;

namespace {

bool OutOfScope(const std::string& question) {
  return ScopeCheck::AboutOtherBodyPartOnly(QueryBuilder::Words(question));
}

}  // namespace

TEST_CASE("a question about another body part alone is out of scope", "[scope]") {
  CHECK(OutOfScope("my knee hurts going downhill"));
  CHECK(OutOfScope("Shin splints AGAIN"));
  CHECK(OutOfScope("tight calves after intervals"));
  CHECK(OutOfScope("stiff neck when i run"));
  CHECK(OutOfScope("achilles is sore in the mornings"));
  CHECK(OutOfScope("pulled my hamstring, can i run"));
}

TEST_CASE("a back, spine, hip, glute or core word keeps it in scope", "[scope]") {
  CHECK_FALSE(OutOfScope("back pain and now my knee hurts too"));
  CHECK_FALSE(OutOfScope("pain shoots from my lower back into my calf"));
  CHECK_FALSE(OutOfScope("weak glutes and sore knees"));
  CHECK_FALSE(OutOfScope("hip and ankle stiffness"));
}

TEST_CASE("questions naming no other body part are left to the ranking", "[scope]") {
  CHECK_FALSE(OutOfScope("what should i eat before a race"));
  CHECK_FALSE(OutOfScope("belt?"));
  CHECK_FALSE(OutOfScope(""));
  // Tight hamstrings are part of the back's stretching advice; only an injured hamstring is a leg question.
  CHECK_FALSE(OutOfScope("how long to hold a hamstring stretch"));
  // Pain down the leg is a back symptom (sciatica), not another injury.
  CHECK_FALSE(OutOfScope("tingling down my leg"));
}
