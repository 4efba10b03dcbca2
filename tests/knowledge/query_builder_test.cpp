#include "knowledge/query_builder.h"

#include <catch2/catch.hpp>

using coach::knowledge::QueryBuilder;
using coach::knowledge::QueryTerm;
using coach::knowledge::SynonymMode;
using coach::knowledge::SynonymTable;

namespace {

const SynonymTable& Synonyms() {
  static const SynonymTable table =
      SynonymTable::Parse("shoes, trainers, sneakers\nphysiotherapist, physio, physical therapist\n", "synonyms.txt");
  return table;
}

std::vector<std::string> Typed(const std::vector<QueryTerm>& terms) {
  std::vector<std::string> typed;
  for (const auto& term : terms) typed.push_back(term.typed);
  return typed;
}

}  // namespace

TEST_CASE("words are lower-cased, apostrophes folded, punctuation splits", "[query]") {
  CHECK(QueryBuilder::Words("Don't SLOUCH—runner’s back, 3/10!") ==
        std::vector<std::string>{"dont", "slouch", "runners", "back", "3", "10"});
  CHECK(QueryBuilder::Words("café 😀 niño") == std::vector<std::string>{"café", "niño"});
  CHECK(QueryBuilder::Words("\"brace\" OR* (").size() == 2);
}

TEST_CASE("stop words are dropped and synonyms expand into one group", "[query]") {
  const QueryBuilder builder(Synonyms(), {"shoes", "worn", "back"}, SynonymMode::kQueryExpansion);
  const auto terms = builder.Terms("Are my worn trainers hurting my back?");
  CHECK(Typed(terms) == std::vector<std::string>{"worn", "trainers", "hurting", "back"});
  CHECK(terms[1].alternatives == std::vector<std::string>{"trainers", "shoes", "sneakers"});
}

TEST_CASE("multi-word synonyms are matched before single words", "[query]") {
  const QueryBuilder builder(Synonyms(), {}, SynonymMode::kQueryExpansion);
  const auto terms = builder.Terms("should I see a physical therapist");
  REQUIRE(terms.size() == 2);
  CHECK(terms[1].typed == "physical therapist");
  CHECK(terms[1].alternatives == std::vector<std::string>{"physical therapist", "physiotherapist", "physio"});
}

TEST_CASE("the same concept twice counts once", "[query]") {
  const QueryBuilder builder(Synonyms(), {}, SynonymMode::kQueryExpansion);
  CHECK(builder.Terms("trainers or sneakers, shoes").size() == 1);
}

TEST_CASE("a typo one edit from a content word gets the word as an alternative", "[query]") {
  const QueryBuilder builder(Synonyms(), {"stretches", "hamstrings", "brace"}, SynonymMode::kQueryExpansion);
  const auto terms = builder.Terms("hamstirngs strecthes sneakres brcae flor");
  REQUIRE(terms.size() == 5);
  CHECK(terms[0].alternatives == std::vector<std::string>{"hamstirngs", "hamstrings"});
  CHECK(terms[1].alternatives == std::vector<std::string>{"strecthes", "stretches"});
  // The correction's synonyms come along.
  CHECK(terms[2].alternatives == std::vector<std::string>{"sneakres", "sneakers", "shoes", "trainers"});
  CHECK(terms[3].alternatives == std::vector<std::string>{"brcae", "brace"});
  CHECK(terms[4].alternatives == std::vector<std::string>{"flor"});  // too short to guess
}

TEST_CASE("unrelated words are not bent into content words", "[query]") {
  const QueryBuilder builder(Synonyms(), {"stretches", "brace"});
  CHECK(builder.Terms("weather forecast").at(0).alternatives == std::vector<std::string>{"weather"});
}

TEST_CASE("the match expression quotes every alternative and ORs the groups", "[query]") {
  const QueryBuilder builder(Synonyms(), {}, SynonymMode::kQueryExpansion);
  CHECK(QueryBuilder::MatchExpression(builder.Terms("worn trainers")) ==
        "(\"worn\") OR (\"trainers\" OR \"shoes\" OR \"sneakers\")");
  CHECK(QueryBuilder::MatchExpression({{"a\"b", {"a\"b"}}}) == "(\"a\"\"b\")");
  CHECK(QueryBuilder::MatchExpression(builder.Terms("what is it?")).empty());
}

TEST_CASE("concept tokens stand for a whole synonym group, in the query and in the indexed text", "[query]") {
  const QueryBuilder builder(Synonyms(), {"stretches"}, SynonymMode::kConceptTokens);
  CHECK(QueryBuilder::ConceptToken({"physiotherapist", "physio"}) == "synphysiotherapist");
  const auto terms = builder.Terms("Sneakers, trainers or a physical therapist?");
  REQUIRE(terms.size() == 2);
  CHECK(terms[0].alternatives == std::vector<std::string>{"synshoes"});
  CHECK(terms[1].typed == "physical therapist");
  CHECK(terms[1].alternatives == std::vector<std::string>{"synphysiotherapist"});
  CHECK(builder.Terms("sneakres").at(0).alternatives == std::vector<std::string>{"sneakres", "synshoes"});
  CHECK(builder.IndexedText("Old Trainers: see a physio!") == "old trainers synshoes see a physio synphysiotherapist");
}
