#include "knowledge/scope_check.h"

#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "knowledge/content.h"
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
  CHECK(OutOfScope("my ribs ache when I breathe hard uphill"));
  CHECK(OutOfScope("bunion rubbing on long runs"));
  CHECK(OutOfScope("my lower legs ache after every run"));
  CHECK_FALSE(OutOfScope("my lower back and legs ache after every run"));
}

TEST_CASE("a back, spine, hip, glute or core word keeps it in scope", "[scope]") {
  CHECK_FALSE(OutOfScope("back pain and now my knee hurts too"));
  CHECK_FALSE(OutOfScope("pain shoots from my lower back into my calf"));
  CHECK_FALSE(OutOfScope("weak glutes and sore knees"));
  CHECK_FALSE(OutOfScope("hip and ankle stiffness"));
}

TEST_CASE("numbness in the groin or saddle area stays in scope (a back emergency)", "[scope]") {
  CHECK_FALSE(OutOfScope("tingling in my groin since this morning's run"));
  CHECK_FALSE(OutOfScope("groin and bottom feel numb"));
  CHECK(OutOfScope("strained my groin on a hill"));
}

TEST_CASE("questions naming no other body part are left to the ranking", "[scope]") {
  CHECK_FALSE(OutOfScope("what should i eat before a race"));
  CHECK_FALSE(OutOfScope("belt?"));
  CHECK_FALSE(OutOfScope(""));
  // Tight hamstrings are part of the back's stretching advice; only an injured hamstring is a leg question.
  CHECK_FALSE(OutOfScope("how long to hold a hamstring stretch"));
  // Pain down the leg is a back symptom (sciatica), not another injury, even when it reaches the knee or calf.
  CHECK_FALSE(OutOfScope("tingling down my leg"));
  CHECK_FALSE(OutOfScope("sharp pain shooting down the back of my leg to the knee"));
  CHECK(OutOfScope("pain down by my knee"));
}

TEST_CASE("a foot that hurts is another injury; feet in a shoes or form question are not", "[scope]") {
  CHECK(OutOfScope("my heel hurts first thing in the morning"));
  CHECK(OutOfScope("sore arch in my left foot"));
  CHECK_FALSE(OutOfScope("is heel striking bad for me"));
  CHECK_FALSE(OutOfScope("I have flat feet, does that matter"));
  CHECK_FALSE(OutOfScope("my foot lands way ahead of me and my lower back hurts"));
}

TEST_CASE("shoulders, arms and head are running form unless they hurt", "[scope]") {
  CHECK_FALSE(OutOfScope("my shoulders creep up towards my ears on long runs"));
  CHECK_FALSE(OutOfScope("should my arms cross in front of me"));
  CHECK(OutOfScope("my shoulder aches after every run"));
  CHECK(OutOfScope("sore arms after a marathon"));
}

TEST_CASE("posture does not make a neck question a back one", "[scope]") {
  CHECK(OutOfScope("could slumped posture give me neck pain"));
  CHECK_FALSE(OutOfScope("could slumped posture give me lower back pain"));
}

namespace {

bool OtherSubject(const std::string& question) {
  return ScopeCheck::AboutOtherSubjectOnly(QueryBuilder::Words(question));
}

}  // namespace

TEST_CASE("food, race speed, weather and account questions without a back word are out of scope", "[scope]") {
  CHECK(OtherSubject("how many carbs for a half marathon"));
  CHECK(OtherSubject("Is COFFEE before a long run ok?"));
  CHECK(OtherSubject("how do i set a new 10k pb"));
  CHECK(OtherSubject("running in the rain, any good?"));
  CHECK(OtherSubject("how do I cancel my subscription"));
  CHECK(OtherSubject("how do i run faster over 5k"));
  CHECK_FALSE(OtherSubject("how do i heal faster"));
  CHECK_FALSE(OtherSubject("does what I eat affect my lower back pain"));
  CHECK(OtherSubject("is 30 degrees too hot for a jog"));
  CHECK(OtherSubject("taking my dog on my easy runs, tips?"));
  CHECK(OtherSubject("what should my heart rate be on easy days"));
  CHECK(OtherSubject("how many 400m repeats in a session"));
  CHECK_FALSE(OtherSubject("does running in a heatwave make my back worse"));
  CHECK_FALSE(OtherSubject("bird dogs or planks for a stronger core"));
  CHECK_FALSE(OtherSubject("my back aches after tempo runs"));
  CHECK_FALSE(OtherSubject("how long should my long run be"));
  CHECK_FALSE(OtherSubject(""));
}

TEST_CASE("mobility aids are not running", "[scope]") {
  CHECK(OtherSubject("which wheelchair is lightest for my gran"));
  CHECK(OtherSubject("best walking stick for an older man"));
  CHECK_FALSE(OtherSubject("best mobility drills for an older runner"));
}

TEST_CASE("errands for the bot are another subject; shopping advice is not", "[scope]") {
  CHECK(OtherSubject("could you order me a pair of trainers"));
  CHECK_FALSE(OtherSubject("I buy my trainers online, do I need a fitting"));
}

TEST_CASE("no other-subject word occurs anywhere in the product content", "[scope]") {
  // A word the content uses is a subject we do answer: vetoing it would reject questions we can answer.
  const auto content = coach::knowledge::LoadContent(std::string(COACH_SOURCE_DIR) + "/content");
  std::set<std::string> content_words;
  const auto add = [&](const std::string& text) {
    const auto words = QueryBuilder::Words(text);
    for (std::size_t i = 0; i < words.size(); ++i) {
      content_words.insert(words[i]);
      if (i + 1 < words.size()) content_words.insert(words[i] + " " + words[i + 1]);
    }
  };
  for (const auto& topic : content.topics) {
    add(topic.title);
    add(topic.summary);
    add(topic.body);
    for (const auto& tag : topic.tags) add(tag);
    for (const auto& question : topic.questions) add(question);
  }
  for (const auto& group : content.synonyms.groups()) {
    for (const auto& term : group) add(term);
  }
  for (const auto& word : ScopeCheck::OtherSubjectWords()) {
    INFO(word);
    CHECK(content_words.count(word) == 0);
  }
}

TEST_CASE("racing, race times and sleep before a race with no back, pain or healing word are out of scope", "[scope]") {
  const auto racing_only = [](const std::string& question) {
    return ScopeCheck::AboutRacingOnly(QueryBuilder::Words(question));
  };
  CHECK(racing_only("what finishing 10k time counts as decent for a woman of 52"));
  CHECK(racing_only("can I do two marathons a month apart"));
  CHECK(racing_only("how much sleep before a parkrun"));
  // "back to back" is one after the other, not the back.
  CHECK(racing_only("is it smart to race back to back weekends"));
  CHECK_FALSE(racing_only("can I race a 10k with a sore back"));
  CHECK_FALSE(racing_only("marathon in six weeks, will my back be healed by then"));
  CHECK_FALSE(racing_only("does sleep help me recover"));
  CHECK_FALSE(racing_only("my lower back stiffens at the end of long runs"));
  CHECK_FALSE(racing_only("how far should my long run be"));
}

TEST_CASE("a greeting or small talk alone asks nothing", "[scope]") {
  const auto small_talk = [](const std::string& question) {
    return ScopeCheck::SmallTalkOnly(QueryBuilder::Words(question));
  };
  CHECK(small_talk("Good evening, how are you doing?"));
  CHECK(small_talk("hi there, nice to meet you"));
  CHECK(small_talk("ok cool, bye"));
  CHECK_FALSE(small_talk("cool down or not"));
  CHECK_FALSE(small_talk("good morning, my back is stiff every morning"));
  CHECK_FALSE(small_talk("how long does it take to heal"));
  CHECK_FALSE(small_talk(""));
}

TEST_CASE("colds and illnesses, clothing other than shoes and the time of day are other subjects", "[scope]") {
  const auto other_subject = [](const std::string& question) {
    return ScopeCheck::AboutOtherSubjectOnly(QueryBuilder::Words(question));
  };
  CHECK(other_subject("is a short jog ok when I have a cold"));
  CHECK(other_subject("running after the flu, how soon"));
  CHECK(other_subject("is jogging safe while pregnant"));
  CHECK(other_subject("do I need gloves and a hat in January"));
  CHECK(other_subject("which time of day is kindest for an easy run"));
  CHECK_FALSE(other_subject("my back aches since I had the flu, can I run"));
}

TEST_CASE("a race question about the content's own practices stays in scope", "[scope]") {
  const auto racing_only = [](const std::string& question) {
    return ScopeCheck::AboutRacingOnly(QueryBuilder::Words(question));
  };
  CHECK_FALSE(racing_only("should I warm up before a parkrun"));
  CHECK_FALSE(racing_only("stretching the day before a marathon, yes or no"));
  CHECK(racing_only("how should I pace the second half of a marathon"));
}
