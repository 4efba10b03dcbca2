#include "knowledge/knowledge_index.h"

#include <catch2/catch.hpp>

#include "tests/knowledge/temporary_content.h"

using coach::knowledge::Content;
using coach::knowledge::KnowledgeIndex;
using coach::knowledge::LoadContent;
using coach::knowledge::SearchHit;
using coach::knowledge::testing::TemporaryContent;

namespace {

const Content& Fixture() {
  static const Content content = LoadContent(TemporaryContent::FixtureDir(), TemporaryContent::Rules());
  return content;
}

std::string Best(const KnowledgeIndex& index, const std::string& question) {
  const auto hits = index.Search(question);
  return hits.empty() ? "" : hits.front().topic_id;
}

}  // namespace

TEST_CASE("the index counts topics and entries", "[index]") {
  const KnowledgeIndex index(Fixture());
  CHECK(index.topic_count() == 3);
  CHECK(index.entry_count() == 3 * (4 + 8));
  CHECK(index.vocabulary_size() > 50);
}

TEST_CASE("questions find the topic whose words they share, best first", "[index]") {
  const KnowledgeIndex index(Fixture());
  CHECK(Best(index, "how long should I hold a hamstring stretch") == "stretches");
  CHECK(Best(index, "should I wear a corset") == "brace");
  CHECK(Best(index, "when do the shoes need replacing") == "shoes");
  const auto hits = index.Search("hamstring stretch", 3);
  REQUIRE(!hits.empty());
  for (std::size_t i = 1; i < hits.size(); ++i) CHECK(hits[i - 1].score >= hits[i].score);
  CHECK(hits.front().score > 0);
}

TEST_CASE("a question about another body part alone finds nothing", "[index]") {
  const KnowledgeIndex index(Fixture());
  CHECK(index.Search("how long should I stretch my knee", 3).empty());
  CHECK_FALSE(index.Search("how long should I stretch my back and knee", 3).empty());
}

TEST_CASE("porter stemming matches other forms of a word", "[index]") {
  const KnowledgeIndex index(Fixture());
  CHECK(Best(index, "stretched hamstring") == "stretches");
  CHECK(Best(index, "replacing footwears") == "shoes");
}

TEST_CASE("synonyms from the data find a topic that never uses the typed word", "[index]") {
  const KnowledgeIndex index(Fixture());
  // The fixture's shoes topic never says "trainers" or "sneakers": only synonyms.txt links them.
  CHECK(Best(index, "trainers") == "shoes");
  CHECK(Best(index, "old sneakers") == "shoes");
  CHECK(Best(index, "a lumbar belt?") == "brace");
}

TEST_CASE("both synonym modes find the synonym's topic", "[index]") {
  for (auto mode : {coach::knowledge::SynonymMode::kConceptTokens, coach::knowledge::SynonymMode::kQueryExpansion}) {
    coach::knowledge::IndexOptions options;
    options.synonyms = mode;
    const KnowledgeIndex index(Fixture(), options);
    CHECK(Best(index, "are my sneakers too old") == "shoes");
    CHECK(Best(index, "back support") == "brace");
  }
}

TEST_CASE("coverage says how much of the question the topic explains", "[index]") {
  const KnowledgeIndex index(Fixture());
  const auto full = index.Search("corset");
  REQUIRE(!full.empty());
  CHECK(full.front().coverage == Approx(1.0));
  // "xylophone" and "zeppelin" are in no topic: the brace topic explains only a third of the question.
  const auto partial = index.Search("corset xylophone zeppelin");
  REQUIRE(!partial.empty());
  CHECK(partial.front().topic_id == "brace");
  CHECK(partial.front().coverage < 0.5);
  CHECK(partial.front().coverage > 0.0);
  // A number the content never mentions is a detail, not the subject.
  const auto with_number = index.Search("corset 1234");
  REQUIRE(!with_number.empty());
  CHECK(with_number.front().coverage == Approx(1.0));
}

TEST_CASE("typos still find the topic", "[index]") {
  const KnowledgeIndex index(Fixture());
  CHECK(Best(index, "hamstirng strecthes") == "stretches");
  CHECK(Best(index, "corsett") == "brace");
}

TEST_CASE("FTS5 syntax in a question is just words", "[index]") {
  const KnowledgeIndex index(Fixture());
  for (const char* question :
       {"\"brace\" OR* (", "brace NEAR(x y)", "title:brace", "^brace", "brace AND NOT", "* OR ( ) \"", "\"\"\"",
        "body : \"", "NOT", "brace -shoes +stretch", "{title body}: brace", "😀", "", "   "}) {
    CAPTURE(question);
    CHECK_NOTHROW(index.Search(question));
  }
  CHECK(Best(index, "\"brace\" OR* (") == "brace");
}

TEST_CASE("a raw MATCH syntax error surfaces as an exception, not a crash", "[index]") {
  const KnowledgeIndex index(Fixture());
  CHECK_THROWS_AS(index.SearchExpression("\"brace\" OR* (", 3), std::runtime_error);
  CHECK(!index.SearchExpression("\"brace\"", 3).empty());  // the statement is usable after an error
}

TEST_CASE("a question with no content word finds nothing", "[index]") {
  const KnowledgeIndex index(Fixture());
  CHECK(index.Search("what is it?").empty());
  CHECK(index.Search("quantum chromodynamics").empty());
}

TEST_CASE("column weights decide between a title match and a body match", "[index]") {
  // "pelvis" is only in the stretches body, "belts" only in the brace title: a title-heavy weighting ranks brace
  // first for a question naming both.
  coach::knowledge::IndexOptions title_heavy;
  title_heavy.weights.title = 20;
  title_heavy.weights.body = 0.1;
  CHECK(Best(KnowledgeIndex(Fixture(), title_heavy), "pelvis braces") == "brace");
  coach::knowledge::IndexOptions body_heavy;
  body_heavy.weights = {0.1, 0.1, 0.1, 0.1, 20};
  CHECK(Best(KnowledgeIndex(Fixture(), body_heavy), "pelvis braces") == "stretches");
}

TEST_CASE("the asking sentence of a long question is its last question of three words or more", "[index]") {
  CHECK(KnowledgeIndex::LastSentence("I run a lot. My back aches. Could it be my shoes?") == "Could it be my shoes");
  CHECK(KnowledgeIndex::LastSentence("should I wear a belt?") == "should I wear a belt?");
  CHECK(KnowledgeIndex::LastSentence("My back aches after runs. Help!") == "My back aches after runs. Help!");
  CHECK(KnowledgeIndex::LastSentence("...") == "...");
  CHECK(KnowledgeIndex::LastSentence("") == "");
  // A statement after the question is context: the question is the last sentence that ends in "?".
  CHECK(KnowledgeIndex::LastSentence("how long does a pulled back muscle take? half marathon in 5 weeks") ==
        "how long does a pulled back muscle take");
  CHECK(KnowledgeIndex::LastSentence("I run a lot. Could it be my shoes? I got them in May.") ==
        "Could it be my shoes");
  CHECK(KnowledgeIndex::LastSentence("Could it be my shoes? lol") == "Could it be my shoes");
}

TEST_CASE("in a long question the asking sentence outweighs the context before it", "[index]") {
  const KnowledgeIndex index(Fixture());
  const std::string context = "I stretch my hamstrings and hip flexors every day and hold each stretch. ";
  CHECK(Best(index, context + "My back still hurts.") == "stretches");
  CHECK(Best(index, context + "Should I wear a corset or a support belt?") == "brace");
}
