#include "dialog/triage_conversation.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "dialog/question_catalog.h"

using namespace coach::dialog;

namespace {

// Answers anything that mentions shoes, and hands out a recognisable plan.
class FakeKnowledge final : public KnowledgeSource {
 public:
  std::optional<KnowledgeAnswer> Answer(std::string_view question) const override {
    if (question.find("shoe") == std::string_view::npos) return std::nullopt;
    return KnowledgeAnswer{"shoes", "Shoes", "Replace running shoes every 500-800 km.", 9.0};
  }
  std::vector<std::string> Plan(const PlanRequest& request) const override {
    last_request = request;
    return {"Week " + std::to_string(request.week) + " plan for " + request.runner_type, "Day 1: walk"};
  }
  mutable PlanRequest last_request;
};

struct Harness {
  FakeKnowledge knowledge;
  DialogDependencies deps{RedFlagDetector::Default(), knowledge, DialogSettings{}};
  ConversationSnapshot snapshot;
  TurnResult last;

  Harness() {
    TriageConversation conversation(deps);
    last = conversation.Greet();
    snapshot = conversation.Snapshot();
  }
  // Every turn on a fresh object restored from the snapshot, exactly as the server runs it.
  TurnResult& Say(const std::string& text) {
    TriageConversation conversation(deps, snapshot);
    last = conversation.HandleMessage(text);
    snapshot = conversation.Snapshot();
    return last;
  }
  void SayAll(const std::vector<std::string>& texts) {
    for (const auto& text : texts) Say(text);
  }
  std::string State() const { return snapshot.state_key; }
  std::string Level() const { return snapshot.slots.value("level", std::string()); }
  std::string Question() const { return snapshot.slots.value("question", std::string()); }
  bool AnyReplyOfKind(ReplyKind kind) const {
    for (const auto& reply : last.replies) {
      if (reply.kind == kind) return true;
    }
    return false;
  }
  std::string AllText() const {
    std::string out;
    for (const auto& reply : last.replies) out += reply.text + "\n";
    return out;
  }
};

const std::vector<std::string> kNoToEveryScreeningQuestion(QuestionsOf("screening").size(), "no");

void WalkToPain(Harness& h) {
  h.Say("My back hurts when I run");
  h.SayAll(kNoToEveryScreeningQuestion);
}
void WalkToProfile(Harness& h) {
  WalkToPain(h);
  h.SayAll({"low back, in the middle", "A few days", "2", "no"});
}
void WalkToSelfCheck(Harness& h) {
  WalkToProfile(h);
  h.SayAll({"Distance runner", "A race", "3-4 days"});
}
void WalkToMenu(Harness& h) {
  WalkToSelfCheck(h);
  h.SayAll({"yes", "yes", "no", "yes"});
}

}  // namespace

TEST_CASE("the greeting says it is not medical advice and offers four quick replies", "[dialog]") {
  Harness h;
  REQUIRE(h.last.replies.size() == 2);
  CHECK(h.last.replies[0].text.find("isn't medical advice") != std::string::npos);
  CHECK(h.last.replies[0].text.find("999, 911 or 112") != std::string::npos);
  const auto& options = h.last.replies[1].quick_replies;
  REQUIRE(options.size() == 4);
  CHECK(options[0].value == "pain");
  CHECK(options[3].value == "coach");
  CHECK(h.State() == "greeting");
}

TEST_CASE("a whole conversation from the greeting to the plan", "[dialog]") {
  Harness h;
  h.Say("My back hurts when I run");
  CHECK(h.State() == "screening");
  CHECK(h.Question() == "screen_saddle");  // gravest first
  REQUIRE(h.last.replies.back().quick_replies.size() == 2);
  h.SayAll(kNoToEveryScreeningQuestion);
  CHECK(h.State() == "pain");
  h.SayAll({"lower back, left side", "1 to 4 weeks", "2/10", "no"});
  CHECK(h.State() == "profile");
  CHECK(h.Level() == std::string("self_care"));
  h.SayAll({"I'm training for a marathon", "A race", "5 or more"});
  CHECK(h.State() == "self_check");
  h.SayAll({"yes", "yes", "yes", "no"});
  CHECK(h.State() == "menu");
  CHECK(h.AnyReplyOfKind(ReplyKind::plan));
  CHECK(h.AllText().find("needs a rethink") != std::string::npos);  // three ticks
  CHECK(h.knowledge.last_request.runner_type == "distance");
  CHECK(h.knowledge.last_request.pain_score == 2);

  SECTION("the plan can be sent again, and week 2 on request") {
    h.Say("Show week 2");
    CHECK(h.AllText().find("Week 2 plan") != std::string::npos);
    h.Say("plan_again");
    CHECK(h.AllText().find("Week 2 plan") != std::string::npos);
    CHECK(h.State() == "menu");
  }
}

TEST_CASE("the 3/10 rule sends rising pain to a professional", "[dialog]") {
  Harness h;
  WalkToPain(h);
  h.SayAll({"low back", "A few days", "it's about 5 out of 10"});
  h.Say("yes");
  CHECK(h.State() == "see_professional");
  CHECK(h.AnyReplyOfKind(ReplyKind::see_professional));
  CHECK(h.Level() == std::string("see_professional"));
  h.Say("A gentle plan meanwhile");
  CHECK(h.State() == "profile");
}

TEST_CASE("a yes to a screening question escalates at once", "[dialog]") {
  Harness h;
  h.Say("pain");
  h.Say("yes");  // numbness around the saddle area
  CHECK(h.State() == "waiting_for_coach");
  CHECK(h.AnyReplyOfKind(ReplyKind::emergency));
  REQUIRE(h.last.escalation.has_value());
  CHECK(h.last.escalation->level == TriageLevel::emergency);
  CHECK(h.last.escalation->flags == std::vector<std::string>{"saddle_numbness"});
  CHECK(h.AllText().find("999, 911 or 112") != std::string::npos);
}

TEST_CASE("an urgent screening answer asks for a doctor today", "[dialog]") {
  Harness h;
  h.Say("pain");
  h.SayAll({"no", "no", "no", "no", "no", "no"});
  REQUIRE(h.Question() == "screen_systemic");
  h.Say("yes");
  CHECK(h.State() == "waiting_for_coach");
  CHECK(h.AnyReplyOfKind(ReplyKind::urgent));
  CHECK(h.AllText().find("doctor today") != std::string::npos);
}

TEST_CASE("restoring continues exactly where it was and replays nothing", "[dialog]") {
  Harness h;
  WalkToPain(h);
  REQUIRE(h.Question() == "pain_where");
  TriageConversation restored(h.deps, h.snapshot);
  CHECK(restored.StateKey() == "pain");
  CHECK_FALSE(restored.WasReset());
  const auto snapshot_before = h.snapshot.slots.dump();
  CHECK(restored.Snapshot().slots.dump() == snapshot_before);  // building it changed nothing
  const auto turn = restored.HandleMessage("low back");
  REQUIRE_FALSE(turn.replies.empty());
  CHECK(turn.replies.back().text.find("How long") != std::string::npos);
}

TEST_CASE("a moved-out snapshot equals the copied one, and a moved-in snapshot restores the same conversation",
          "[dialog]") {
  Harness h;
  WalkToPain(h);
  ConversationSnapshot moved_in = h.snapshot;
  TriageConversation restored(h.deps, std::move(moved_in));
  CHECK(restored.StateKey() == "pain");
  const auto copied = restored.Snapshot();
  CHECK(copied.slots == h.snapshot.slots);
  const auto moved_out = std::move(restored).Snapshot();
  CHECK(moved_out.state_key == copied.state_key);
  CHECK(moved_out.slots == copied.slots);
}

TEST_CASE("a state key from an older build restarts politely", "[dialog]") {
  Harness h;
  ConversationSnapshot old{"intake_goal_v0", {{"question", "goal"}}};
  TriageConversation conversation(h.deps, old);
  CHECK(conversation.WasReset());
  CHECK(conversation.StateKey() == "greeting");
  const auto turn = conversation.HandleMessage("hello?");
  REQUIRE(turn.replies.size() >= 2);
  CHECK(turn.replies[0].text.find("restart") != std::string::npos);
  CHECK(conversation.Snapshot().slots.value("question", std::string()) == "greeting_choice");

  SECTION("slots that are not an object also restart") {
    TriageConversation broken(h.deps, ConversationSnapshot{"pain", nlohmann::json::array()});
    CHECK(broken.WasReset());
  }
}

TEST_CASE("a free question is answered and the conversation resumes at its question", "[dialog]") {
  Harness h;
  SECTION("in screening") {
    h.Say("pain");
    h.Say("no");
    const auto question = h.Question();
    h.Say("wait, can worn out shoes cause this?");
    CHECK(h.AnyReplyOfKind(ReplyKind::answer));
    CHECK(h.Question() == question);
    CHECK(h.State() == "screening");
    CHECK(h.last.replies.back().text.find("Back to where we were") != std::string::npos);
  }
  SECTION("in the profile") {
    WalkToProfile(h);
    h.Say("how often should I replace my shoes?");
    CHECK(h.AnyReplyOfKind(ReplyKind::answer));
    CHECK(h.State() == "profile");
    CHECK(h.Question() == "profile_type");
  }
  SECTION("an unknown question is honestly not answered, and kept for the content authors") {
    WalkToSelfCheck(h);
    h.Say("what's the best marathon in europe?");
    CHECK(h.AnyReplyOfKind(ReplyKind::not_sure));
    REQUIRE(h.last.unanswered_question.has_value());
    CHECK(*h.last.unanswered_question == "what's the best marathon in europe?");
    CHECK(h.State() == "self_check");
  }
  SECTION("question mode answers one question after another") {
    h.Say("I have a question");
    CHECK(h.State() == "question");
    h.Say("trainers or shoes, which last longer");  // not phrased as a question: still looked up here
    h.Say("shoe size?");
    CHECK(h.AnyReplyOfKind(ReplyKind::answer));
    CHECK(h.State() == "question");
  }
}

TEST_CASE("bad input gets a clear reply and leaves the state alone", "[dialog]") {
  Harness h;
  WalkToPain(h);
  h.Say("low back");
  REQUIRE(h.Question() == "pain_duration");
  const std::vector<std::string> bad = {"",
                                        "   \t  ",
                                        std::string(10000, 'x'),
                                        "\xFF\xFE\xFD",
                                        "\x01\x02\x03",
                                        "\xF0\x9F\x98\xAD\xF0\x9F\x98\xAD",
                                        "week2",  // a quick-reply value of another question
                                        std::string("restart\0now", 11)};
  for (const auto& text : bad) {
    INFO("input: " << text.substr(0, 20));
    h.Say(text);
    CHECK(h.State() == "pain");
    CHECK(h.Question() == "pain_duration");
    REQUIRE_FALSE(h.last.replies.empty());
    CHECK_FALSE(h.last.replies.back().quick_replies.empty());  // asked again, with its buttons
  }
}

TEST_CASE("the runner can ask for a coach anywhere, and the coach takes over and hands back", "[dialog]") {
  Harness h;
  WalkToProfile(h);
  h.Say("can I talk to a real person please");
  CHECK(h.State() == "waiting_for_coach");
  REQUIRE(h.last.escalation.has_value());
  CHECK(h.last.escalation->reason == "runner_request");
  h.Say("hello?");
  CHECK(h.State() == "waiting_for_coach");

  TriageConversation conversation(h.deps, h.snapshot);
  CHECK(conversation.Status() == ConversationStatus::waiting_for_coach);
  auto joined = conversation.CoachJoined("Sam");
  CHECK(conversation.Status() == ConversationStatus::coach);
  CHECK(joined.replies.at(0).text.find("Sam") != std::string::npos);
  CHECK(conversation.HandleMessage("thanks sam, it's a bit better").replies.empty());  // the bot stays quiet
  conversation.HandBack();
  CHECK(conversation.StateKey() == "menu");
  CHECK(conversation.Status() == ConversationStatus::bot);
}

TEST_CASE("restart from the middle of intake", "[dialog]") {
  Harness h;
  WalkToProfile(h);
  h.Say("start over");
  CHECK(h.State() == "greeting");
  CHECK(h.Question() == "greeting_choice");
  CHECK_FALSE(h.snapshot.slots.contains("answers"));
}

// ---------------------------------------------------------------------------------------------------------------
// Red flags are caught in every message, in every state, before the machine's normal handling.
TEST_CASE("an emergency message escalates from every state", "[dialog][red_flags]") {
  const std::string emergency = "my back is killing me and I can't feel anything when I wipe";
  using Walk = void (*)(Harness&);
  const std::vector<std::pair<std::string, Walk>> states = {
      {"greeting", [](Harness&) {}},
      {"screening", [](Harness& h) { h.Say("pain"); }},
      {"pain", WalkToPain},
      {"profile", WalkToProfile},
      {"self_check", WalkToSelfCheck},
      {"menu", WalkToMenu},
      {"question", [](Harness& h) { h.Say("I have a question"); }},
      {"see_professional",
       [](Harness& h) {
         WalkToPain(h);
         h.SayAll({"low back", "More than a month", "6", "yes"});
       }},
      {"waiting_for_coach", [](Harness& h) { h.Say("talk to a coach"); }},
  };
  for (const auto& [state, walk] : states) {
    DYNAMIC_SECTION("from " << state) {
      Harness h;
      walk(h);
      REQUIRE(h.State() == state);
      h.Say(emergency);
      CHECK(h.State() == "waiting_for_coach");
      CHECK(h.AnyReplyOfKind(ReplyKind::emergency));
      CHECK(h.AllText().find("999, 911 or 112") != std::string::npos);
      REQUIRE(h.last.decision.has_value());
      CHECK(h.last.decision->level == TriageLevel::emergency);
      CHECK(h.Level() == std::string("emergency"));
      if (state != "waiting_for_coach") {
        REQUIRE(h.last.escalation.has_value());
        CHECK(h.last.escalation->level == TriageLevel::emergency);
        CHECK(h.last.escalation->reason == "red_flag");
      }
    }
  }
  SECTION("from coach_active: the runner still gets the instruction at once") {
    Harness h;
    h.Say("talk to a coach");
    TriageConversation conversation(h.deps, h.snapshot);
    conversation.CoachJoined("Sam");
    const auto turn = conversation.HandleMessage(emergency);
    CHECK(conversation.StateKey() == "coach_active");
    REQUIRE_FALSE(turn.replies.empty());
    CHECK(turn.replies[0].kind == ReplyKind::emergency);
    REQUIRE(turn.escalation.has_value());
    CHECK(turn.escalation->level == TriageLevel::emergency);
  }
}

TEST_CASE("urgent and see-a-professional flags in free text", "[dialog][red_flags]") {
  SECTION("urgent from the middle of intake") {
    Harness h;
    WalkToProfile(h);
    h.Say("I've had a fever and chills since the weekend");
    CHECK(h.State() == "waiting_for_coach");
    CHECK(h.AnyReplyOfKind(ReplyKind::urgent));
  }
  SECTION("see a professional: stop running, book a physio, a coach is offered") {
    Harness h;
    h.Say("pain");
    h.Say("the pain shoots down my left leg below the knee");
    CHECK(h.State() == "see_professional");
    CHECK(h.AnyReplyOfKind(ReplyKind::see_professional));
    CHECK(h.AllText().find("physiotherapist") != std::string::npos);
    bool offers_coach = false;
    for (const auto& option : h.last.replies.back().quick_replies) offers_coach |= option.value == "coach";
    CHECK(offers_coach);
  }
  SECTION("a negated flag changes nothing") {
    Harness h;
    h.Say("pain");
    h.Say("no numbness at all and no problems peeing");
    CHECK(h.State() == "screening");
  }
}
