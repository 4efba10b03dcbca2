#include "knowledge/text_speak.h"

#include <catch2/catch.hpp>

#include <set>

#include "knowledge/content.h"
#include "knowledge/knowledge_base.h"

using coach::knowledge::ContentError;
using coach::knowledge::TextSpeak;

TEST_CASE("text speak: whole shorthand words become plain words, everything else stays", "[text_speak]") {
  const auto table = TextSpeak::Parse("# shorthand\nu = you\ny = why\nbak = back\nshld = should\n\n", "t.txt");
  CHECK(table.size() == 4);
  CHECK(table.Normalise("Y does my BAK hurt? shld u rest.") == "why does my back hurt? should you rest.");
  CHECK(table.Normalise("bakery, yoga and ugly runs") == "bakery, yoga and ugly runs");
  CHECK(table.Normalise("u") == "you");
  CHECK(table.Normalise("") == "");
  // Letters beyond ASCII belong to the word: "éu" is not "u".
  CHECK(table.Normalise("\xC3\xA9u bak") == "\xC3\xA9u back");
}

TEST_CASE("text speak: broken lines name file and line", "[text_speak]") {
  CHECK_THROWS_WITH(TextSpeak::Parse("u = you\nno equals sign\n", "t.txt"), Catch::Contains("t.txt:2"));
  CHECK_THROWS_WITH(TextSpeak::Parse("u = you\nu = your\n", "t.txt"), Catch::Contains("listed twice"));
  CHECK_THROWS_WITH(TextSpeak::Parse("two words = you\n", "t.txt"), Catch::Contains("one word"));
  CHECK_THROWS_WITH(TextSpeak::Parse("u = \n", "t.txt"), Catch::Contains("missing"));
  CHECK_THROWS_AS(TextSpeak::Parse("= you\n", "t.txt"), ContentError);
}

namespace {

const coach::knowledge::KnowledgeBase& Product() {
  static const auto knowledge =
      coach::knowledge::KnowledgeBase::FromDirectory(std::string(COACH_SOURCE_DIR) + "/content");
  return *knowledge;
}

}  // namespace

TEST_CASE("text speak: the product's shorthand never shadows a word of the content", "[text_speak]") {
  const auto& content = Product().content();
  REQUIRE(content.text_speak.size() >= 50);
  std::set<std::string> vocabulary;
  for (const auto& topic : content.topics) {
    for (const std::string* field : {&topic.title, &topic.summary, &topic.body}) {
      for (auto& word : coach::knowledge::QueryBuilder::Words(*field)) vocabulary.insert(word);
    }
    for (const auto* list : {&topic.questions, &topic.tags}) {
      for (const auto& item : *list) {
        for (auto& word : coach::knowledge::QueryBuilder::Words(item)) vocabulary.insert(word);
      }
    }
  }
  for (const auto& word : vocabulary) {
    INFO(word);
    CHECK(content.text_speak.Normalise(word) == word);
  }
}

TEST_CASE("text speak: shorthand questions get the answer of their plain wording", "[text_speak]") {
  const std::pair<const char*, const char*> pairs[] = {
      {"wat r the main reasons my bak hurts wen i run", "what are the main reasons my back hurts when i run"},
      {"shld i wear a belt 4 my bck wen runnin", "should i wear a belt 4 my back when running"},
      {"is it ok 2 foam roll ur lower bak b4 a run", "is it ok 2 foam roll your lower back before a run"},
  };
  for (const auto& [shorthand, plain] : pairs) {
    INFO(shorthand);
    const auto plain_answer = Product().Decide(plain);
    REQUIRE(plain_answer.topic_id);
    CHECK(Product().Decide(shorthand).topic_id == plain_answer.topic_id);
  }
}
