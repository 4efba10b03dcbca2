#include "knowledge/synonyms.h"

#include <catch2/catch.hpp>

#include "knowledge/content.h"

using coach::knowledge::ContentError;
using coach::knowledge::SynonymTable;

TEST_CASE("synonym groups are read one per line, canonical first", "[synonyms]") {
  const auto table = SynonymTable::Parse("# comment\nShoes, Trainers ,sneakers\n\nphysio, physical  therapist\n", "s");
  REQUIRE(table.groups().size() == 2);
  CHECK(table.groups()[0] == std::vector<std::string>{"shoes", "trainers", "sneakers"});
  REQUIRE(table.GroupOf("sneakers") != nullptr);
  CHECK(table.GroupOf("sneakers")->front() == "shoes");
  CHECK(table.GroupOf("physical therapist") == &table.groups()[1]);
  CHECK(table.GroupOf("boots") == nullptr);
  CHECK(table.longest_term_words() == 2);
}

TEST_CASE("a term in two groups is an error naming both lines", "[synonyms]") {
  CHECK_THROWS_WITH(SynonymTable::Parse("sore, achy\nstiff, sore\n", "synonyms.txt"),
                    "synonyms.txt:2: 'sore' is already in the group on line 1");
}

TEST_CASE("an empty term is an error", "[synonyms]") {
  CHECK_THROWS_AS(SynonymTable::Parse("a, , b\n", "synonyms.txt"), ContentError);
}
