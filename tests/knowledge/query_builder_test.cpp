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

TEST_CASE("a multi-word synonym never spans a comma, colon or sentence end", "[query]") {
  const QueryBuilder builder(Synonyms(), {}, SynonymMode::kConceptTokens);
  CHECK(Typed(builder.Terms("physical therapist")) == std::vector<std::string>{"physical therapist"});
  CHECK(Typed(builder.Terms("physical: therapist")) == std::vector<std::string>{"physical", "therapist"});
  CHECK(builder.IndexedText("a physical therapist") == "a physical therapist synphysiotherapist");
  CHECK(builder.IndexedText("**Physical.** Therapist") == "physical therapist");
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

TEST_CASE("common English words are never corrected into content words", "[query]") {
  const QueryBuilder builder(Synonyms(), {"break", "rest", "older", "shoes"}, SynonymMode::kQueryExpansion);
  const auto terms = builder.Terms("bread reset order braek olderr");
  REQUIRE(terms.size() == 5);
  CHECK(terms[0].alternatives == std::vector<std::string>{"bread"});
  CHECK(terms[1].alternatives == std::vector<std::string>{"reset"});
  CHECK(terms[2].alternatives == std::vector<std::string>{"order"});
  // A misspelling that is no English word is still corrected.
  CHECK(terms[3].alternatives == std::vector<std::string>{"braek", "break"});
  CHECK(terms[4].alternatives == std::vector<std::string>{"olderr", "older"});
}

TEST_CASE("an age of 40 or more joins the older-runner group", "[query]") {
  const SynonymTable synonyms = SynonymTable::Parse("older, senior, over 50\n", "synonyms.txt");
  const QueryBuilder builder(synonyms, {}, SynonymMode::kQueryExpansion);
  for (const char* question : {"I'm 58, can I still run", "aged 61 and sore", "45 years old runner"}) {
    INFO(question);
    bool older = false;
    for (const auto& term : builder.Terms(question)) {
      if (term.alternatives == std::vector<std::string>{"older", "senior", "over 50"}) older = true;
    }
    CHECK(older);
  }
  // A young age, a distance or a pace is not an age of an older runner.
  for (const char* question : {"im 25 and my back hurts", "ran 58 km this week", "58 minutes for 10k"}) {
    INFO(question);
    for (const auto& term : builder.Terms(question)) CHECK(term.alternatives.front() != "older");
  }
}

TEST_CASE("chat filler and request framing are not search terms", "[query]") {
  const QueryBuilder builder(Synonyms(), {"warmup"}, SynonymMode::kQueryExpansion);
  CHECK(Typed(builder.Terms("anyway mate, any tips or ideas for a warmup lol")) == std::vector<std::string>{"warmup"});
}

TEST_CASE("judging a claim or a choice is framing, not a search term", "[query]") {
  const QueryBuilder builder(Synonyms(), {"rule", "break", "corset"}, SynonymMode::kQueryExpansion);
  CHECK(Typed(builder.Terms("the rule - real or myth?")) == std::vector<std::string>{"rule"});
  CHECK(Typed(builder.Terms("a break, or is that overkill")) == std::vector<std::string>{"break"});
  CHECK(Typed(builder.Terms("is a corset wise, is it even allowed")) == std::vector<std::string>{"corset"});
  CHECK(Typed(builder.Terms("can a corset fix it, or is a break better instead")) ==
        std::vector<std::string>{"corset", "break", "better"});
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

TEST_CASE("a pain score with a slash joins the 'out of 10' synonym group", "[query]") {
  const SynonymTable scores = SynonymTable::Parse("pain score, out of 10, pain scale\n", "synonyms.txt");
  const QueryBuilder builder(scores, {}, SynonymMode::kConceptTokens);
  const auto terms = builder.Terms("my back is 2/10 sore");
  CHECK(Typed(terms) == std::vector<std::string>{"back", "out of 10", "sore"});
  CHECK(terms[1].alternatives == std::vector<std::string>{QueryBuilder::ConceptToken({"pain score"})});
  CHECK(builder.IndexedText("keep it under 3/10") == "keep it under 3 out of 10 synpainscore");
  // Only a score out of ten: dates and other fractions stay numbers.
  CHECK(Typed(builder.Terms("since 3/11 or 1/100")).empty());
}

TEST_CASE("bare numbers and everyday adverbs are not terms", "[query]") {
  const QueryBuilder builder(Synonyms(), {}, SynonymMode::kConceptTokens);
  CHECK(Typed(builder.Terms("sore for 10 days, always after 3 runs")) ==
        std::vector<std::string>{"sore", "days", "runs"});
  CHECK(Typed(builder.Terms("3x a week")) == std::vector<std::string>{"3x", "week"});
}

TEST_CASE("an unknown adverb or comparative also searches the content word it is built on", "[query]") {
  const QueryBuilder builder(Synonyms(), {"mild", "stiff", "big", "loose", "achy", "slight"});
  const auto terms = builder.Terms("mildly stiffer bigger looser achier slightly");
  REQUIRE(terms.size() == 6);
  CHECK(terms[0].alternatives == std::vector<std::string>{"mildly", "mild"});
  CHECK(terms[1].alternatives == std::vector<std::string>{"stiffer", "stiff"});
  CHECK(terms[2].alternatives == std::vector<std::string>{"bigger", "big"});
  CHECK(terms[3].alternatives == std::vector<std::string>{"looser", "loose"});
  CHECK(terms[4].alternatives == std::vector<std::string>{"achier", "achy"});
  CHECK(terms[5].alternatives == std::vector<std::string>{"slightly", "slight"});
  // A word with no such base in the content stays as typed, and a known word is never reduced.
  CHECK(builder.Terms("costly")[0].alternatives == std::vector<std::string>{"costly"});
  const QueryBuilder knows_mildly(Synonyms(), {"mildly", "mild"});
  CHECK(knows_mildly.Terms("mildly")[0].alternatives == std::vector<std::string>{"mildly"});
}

TEST_CASE("asking for a verdict or a reminder is framing, not the subject", "[query]") {
  const QueryBuilder builder(Synonyms(), {"corset", "running", "plan"}, SynonymMode::kQueryExpansion);
  CHECK(Typed(builder.Terms("corset for running, yay or nay")) == std::vector<std::string>{"corset", "running"});
  CHECK(Typed(builder.Terms("remind me of the plan")) == std::vector<std::string>{"plan"});
  CHECK(Typed(builder.Terms("is there a specific reason")) == std::vector<std::string>{"reason"});
}
