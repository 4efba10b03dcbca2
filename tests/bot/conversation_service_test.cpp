#include "bot/conversation_service.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bot/sqlite_conversation_store.h"
#include "dialog/text_input.h"
#include "temp_directory.h"

using namespace coach;
using namespace coach::bot;

namespace {

/// Content stand-in: answers questions about shoes, knows nothing else, and fails loudly on "explode".
/// `while_answering` runs inside Answer: tests use it to act while a turn is being computed.
class FakeKnowledge final : public dialog::KnowledgeSource {
 public:
  std::function<void()> while_answering;
  std::optional<dialog::KnowledgeAnswer> Answer(std::string_view question) const override {
    if (while_answering) while_answering();
    const std::string folded = dialog::FoldForMatching(question);
    if (folded.find("explode") != std::string::npos) throw std::runtime_error("knowledge index unavailable");
    if (folded.find("shoe") != std::string::npos) {
      return dialog::KnowledgeAnswer{"shoes", "Shoes", "Replace running shoes every 500 to 800 km.", 1.0};
    }
    return std::nullopt;
  }
  std::vector<std::string> Plan(const dialog::PlanRequest& request) const override {
    return {"Week " + std::to_string(request.week) + ", day 1: walk 20 minutes.", "Day 2: rest."};
  }
};

struct Fixture {
  FakeKnowledge knowledge;
  dialog::DialogDependencies dependencies{dialog::RedFlagDetector::Default(), knowledge, {}};
};

/// What the dialog alone says for a sequence of runner messages: the oracle the service must match.
struct DirectRun {
  std::vector<std::string> replies;  ///< greeting first, then every turn's replies, in order
  dialog::ConversationSnapshot snapshot;
};

DirectRun RunDirectly(const dialog::DialogDependencies& dependencies, const std::vector<std::string>& inputs) {
  DirectRun run;
  dialog::TriageConversation conversation(dependencies);
  for (const auto& reply : conversation.Greet().replies) run.replies.push_back(reply.text);
  for (const auto& input : inputs) {
    for (const auto& reply : conversation.HandleMessage(input).replies) run.replies.push_back(reply.text);
  }
  run.snapshot = conversation.Snapshot();
  return run;
}

std::vector<std::string> Texts(const std::vector<MessageRecord>& messages, bool include_user = false) {
  std::vector<std::string> texts;
  for (const auto& message : messages) {
    if (include_user || message.author != Author::user) texts.push_back(message.text);
  }
  return texts;
}

InboundMessage Web(const std::string& session, const std::string& text, const std::string& client_id = "") {
  return InboundMessage{"web", session, text, client_id};
}

std::int64_t CountAudit(ConversationStore& store, std::int64_t conversation_id, const std::string& event) {
  const auto trail = store.AuditTrail(conversation_id);
  return std::count_if(trail.begin(), trail.end(), [&](const AuditRecord& entry) { return entry.event == event; });
}

// The inputs of a conversation that walks from pain through screening into the pain questions.
const std::vector<std::string> kPainWalk = {
    "pain", "no", "no", "no", "no", "no", "no", "no", "no", "no", "low_back_middle", "days", "2", "no"};

}  // namespace

TEST_CASE("a whole conversation through the service matches the dialog and is stored turn by turn", "[service]") {
  Fixture fixture;
  SqliteConversationStore store(":memory:");
  ConversationService service(store, fixture.dependencies);

  const auto started = service.StartConversation("web", "session-1");
  REQUIRE_FALSE(started.replies.empty());
  CHECK_FALSE(started.duplicate);
  CHECK(started.status == "bot");
  CHECK(started.state_key == "greeting");

  std::vector<std::string> replies = Texts(started.replies);
  std::int64_t previous_id = started.replies.back().id;
  for (std::size_t i = 0; i < kPainWalk.size(); ++i) {
    const auto result = service.HandleInbound(Web("session-1", kPainWalk[i], "m-" + std::to_string(i)));
    CHECK(result.conversation_id == started.conversation_id);
    CHECK_FALSE(result.duplicate);
    CHECK(result.user_message_id > previous_id);
    for (const auto& reply : result.replies) {
      CHECK(reply.in_reply_to == result.user_message_id);
      CHECK(reply.id > result.user_message_id);
      replies.push_back(reply.text);
    }
    if (!result.replies.empty()) previous_id = result.replies.back().id;
    // The row is updated within the turn: what the service answered is what is stored.
    const auto row = service.FindConversation("web", "session-1");
    REQUIRE(row);
    CHECK(row->state_key == result.state_key);
    CHECK(row->status == result.status);
  }

  const auto oracle = RunDirectly(fixture.dependencies, kPainWalk);
  CHECK(replies == oracle.replies);
  const auto row = service.FindConversation("web", "session-1");
  REQUIRE(row);
  CHECK(row->state_key == oracle.snapshot.state_key);
  CHECK(row->slots == oracle.snapshot.slots);
  CHECK(row->state_key != "greeting");

  const auto transcript = service.Transcript(started.conversation_id, 0);
  CHECK(Texts(transcript) == oracle.replies);
  std::vector<std::string> user_lines;
  for (const auto& message : transcript) {
    if (message.author == Author::user) user_lines.push_back(message.text);
  }
  CHECK(user_lines == kPainWalk);
  CHECK(store.IntegrityCheck().empty());
}

TEST_CASE("a first message on a new channel conversation creates it and answers with the greeting", "[service]") {
  Fixture fixture;
  SqliteConversationStore store(":memory:");
  ConversationService service(store, fixture.dependencies);
  const auto result = service.HandleInbound({"telegram", "chat-42", "pain", "update-1"});
  const auto oracle = RunDirectly(fixture.dependencies, {"pain"});
  CHECK(Texts(result.replies) == oracle.replies);
  for (const auto& reply : result.replies) CHECK(reply.in_reply_to == result.user_message_id);
  const auto row = service.FindConversation("telegram", "chat-42");
  REQUIRE(row);
  CHECK(row->state_key == oracle.snapshot.state_key);
  CHECK(CountAudit(store, row->id, "conversation_started") == 1);
  // The replay of that first message gives all of it back, greeting included.
  const auto replay = service.HandleInbound({"telegram", "chat-42", "pain", "update-1"});
  CHECK(replay.duplicate);
  CHECK(Texts(replay.replies) == oracle.replies);
}

TEST_CASE("a message for an erased web session does not bring the conversation back", "[service]") {
  Fixture fixture;
  SqliteConversationStore store(":memory:");
  ConversationService service(store, fixture.dependencies);
  const auto started = service.StartConversation("web", "session-1", "hash");
  REQUIRE(service.Erase(started.conversation_id));
  InboundMessage late = Web("session-1", "pain", "m-1");
  late.create_if_missing = false;
  const auto result = service.HandleInbound(late);
  CHECK(result.not_found);
  CHECK(result.replies.empty());
  CHECK_FALSE(service.FindConversation("web", "session-1").has_value());
}

TEST_CASE("starting a conversation twice changes nothing and returns the stored greeting", "[service]") {
  Fixture fixture;
  SqliteConversationStore store(":memory:");
  ConversationService service(store, fixture.dependencies);
  const auto first = service.StartConversation("web", "s");
  const auto second = service.StartConversation("web", "s");
  CHECK(second.duplicate);
  CHECK(second.conversation_id == first.conversation_id);
  REQUIRE(second.replies.size() == first.replies.size());
  for (std::size_t i = 0; i < first.replies.size(); ++i) CHECK(second.replies[i].id == first.replies[i].id);
  CHECK(service.Transcript(first.conversation_id, 0).size() == first.replies.size());
}

TEST_CASE("the same client message id twice returns the first replies and changes nothing", "[service]") {
  Fixture fixture;
  SqliteConversationStore store(":memory:");
  ConversationService service(store, fixture.dependencies);
  const auto started = service.StartConversation("web", "s");

  const auto first = service.HandleInbound(Web("s", "pain", "client-1"));
  REQUIRE_FALSE(first.replies.empty());
  const auto row_before = service.FindConversation("web", "s");
  const auto transcript_before = service.Transcript(started.conversation_id, 0);

  // A retry with different text under the same id: still the first answer (the id is the identity).
  const auto replay = service.HandleInbound(Web("s", "something else entirely", "client-1"));
  CHECK(replay.duplicate);
  CHECK(replay.user_message_id == first.user_message_id);
  REQUIRE(replay.replies.size() == first.replies.size());
  for (std::size_t i = 0; i < first.replies.size(); ++i) {
    CHECK(replay.replies[i].id == first.replies[i].id);
    CHECK(replay.replies[i].text == first.replies[i].text);
    CHECK(replay.replies[i].quick_replies == first.replies[i].quick_replies);
  }
  CHECK(service.Transcript(started.conversation_id, 0).size() == transcript_before.size());
  const auto row_after = service.FindConversation("web", "s");
  CHECK(row_after->state_key == row_before->state_key);
  CHECK(row_after->slots == row_before->slots);
  CHECK(row_after->updated_at_ms == row_before->updated_at_ms);

  // After later turns, the old id still replays its own turn, not the latest one.
  service.HandleInbound(Web("s", "no", "client-2"));
  const auto late_replay = service.HandleInbound(Web("s", "pain", "client-1"));
  CHECK(late_replay.duplicate);
  CHECK(Texts(late_replay.replies) == Texts(first.replies));

  // Without a client message id there is no deduplication: two sends are two turns.
  const auto size = service.Transcript(started.conversation_id, 0).size();
  service.HandleInbound(Web("s", "hello"));
  service.HandleInbound(Web("s", "hello"));
  CHECK(service.Transcript(started.conversation_id, 0).size() > size + 2);
}

TEST_CASE("many threads times many conversations: every transcript in order, nothing lost or doubled",
          "[service][concurrency]") {
  Fixture fixture;
  testing::TempDirectory directory;
  SqliteConversationStore store(directory.File("concurrent.db"));
  ConversationService service(store, fixture.dependencies);

  constexpr int kConversations = 6;
  constexpr int kThreads = 8;
  constexpr int kMessagesPerThread = 24;
  const std::vector<std::string> inputs = {"pain", "no", "yes", "plan", "which shoes are best?", "hello", "2", "no"};
  std::vector<std::int64_t> ids;
  for (int c = 0; c < kConversations; ++c) {
    ids.push_back(service.StartConversation("web", "c" + std::to_string(c)).conversation_id);
  }

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kMessagesPerThread; ++i) {
        const int conversation = (t + i) % kConversations;
        const std::string client_id = "t" + std::to_string(t) + "-" + std::to_string(i);
        const std::string text = inputs[static_cast<std::size_t>(t * 7 + i) % inputs.size()];
        try {
          const auto session = "c" + std::to_string(conversation);
          const auto result = service.HandleInbound(Web(session, text, client_id));
          // Every third message is retried, as a client does after a lost answer.
          if (i % 3 == 0) {
            const auto retry = service.HandleInbound(Web(session, text, client_id));
            if (!retry.duplicate || retry.user_message_id != result.user_message_id) failures.fetch_add(1);
          }
        } catch (...) {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  REQUIRE(failures.load() == 0);

  std::size_t user_lines_total = 0;
  for (int c = 0; c < kConversations; ++c) {
    const auto transcript = service.Transcript(ids[c], 0, 100000);
    std::vector<std::string> user_inputs;
    std::set<std::string> client_ids;
    std::map<std::string, int> last_index_per_thread;
    std::int64_t current_user_line = 0;
    for (const auto& message : transcript) {
      if (message.author == Author::user) {
        REQUIRE(message.client_message_id);
        CHECK(client_ids.insert(*message.client_message_id).second);  // never doubled
        // Each thread sends one message at a time, so its lines appear in its own order.
        const auto dash = message.client_message_id->find('-');
        const auto thread_name = message.client_message_id->substr(0, dash);
        const int index = std::stoi(message.client_message_id->substr(dash + 1));
        auto [previous, inserted] = last_index_per_thread.emplace(thread_name, index);
        if (!inserted) {
          CHECK(index > previous->second);
          previous->second = index;
        }
        user_inputs.push_back(message.text);
        current_user_line = message.id;
      } else if (current_user_line != 0) {
        // A turn's replies follow its own message with no other turn in between.
        CHECK(message.in_reply_to == current_user_line);
      }
    }
    user_lines_total += user_inputs.size();
    // The stored conversation is exactly a serial run of its messages in stored order.
    const auto oracle = RunDirectly(fixture.dependencies, user_inputs);
    CHECK(Texts(transcript) == oracle.replies);
    const auto row = service.FindConversation("web", "c" + std::to_string(c));
    CHECK(row->state_key == oracle.snapshot.state_key);
    CHECK(row->slots == oracle.snapshot.slots);
  }
  CHECK(user_lines_total == static_cast<std::size_t>(kThreads * kMessagesPerThread));
  CHECK(store.IntegrityCheck().empty());
}

TEST_CASE("a red flag answered in screening opens an emergency escalation in the same turn", "[service]") {
  Fixture fixture;
  SqliteConversationStore store(":memory:");
  ConversationService service(store, fixture.dependencies);
  const auto started = service.StartConversation("web", "s");
  service.HandleInbound(Web("s", "pain", "1"));
  const auto result = service.HandleInbound(Web("s", "yes", "2"));  // the first screening question: saddle area
  CHECK(result.status == "waiting_for_coach");
  CHECK(result.triage_level == "emergency");
  REQUIRE_FALSE(result.replies.empty());
  CHECK(std::any_of(result.replies.begin(), result.replies.end(),
                    [](const MessageRecord& reply) { return reply.kind == "emergency"; }));

  const auto escalations = store.EscalationsFor(started.conversation_id);
  REQUIRE(escalations.size() == 1);
  CHECK(escalations[0].level == "emergency");
  CHECK(escalations[0].status == "open");
  CHECK(escalations[0].reason == "red_flag");
  CHECK(escalations[0].flags == nlohmann::json::array({"saddle_numbness"}));
  const auto queue = service.EscalationQueue();
  REQUIRE(queue.size() == 1);
  CHECK(queue[0].conversation_id == started.conversation_id);
  CHECK(store.Metrics().open_escalations_by_level == std::map<std::string, std::int64_t>{{"emergency", 1}});
  CHECK(CountAudit(store, started.conversation_id, "escalation_opened") == 1);
}

TEST_CASE("an emergency described in free text escalates from the middle of intake", "[service][detector]") {
  Fixture fixture;
  SqliteConversationStore store(":memory:");
  ConversationService service(store, fixture.dependencies);
  const auto started = service.StartConversation("web", "s");
  service.HandleInbound(Web("s", "pain", "1"));
  const auto result =
      service.HandleInbound(Web("s", "I cant feel anything when I wipe and I wet myself this morning", "2"));
  CHECK(result.triage_level == "emergency");
  CHECK(result.status == "waiting_for_coach");
  const auto escalations = store.EscalationsFor(started.conversation_id);
  REQUIRE(escalations.size() == 1);
  CHECK(escalations[0].level == "emergency");
  CHECK_FALSE(escalations[0].evidence.empty());
  // The audit trail names the flags but never repeats the runner's words.
  for (const auto& entry : store.AuditTrail(started.conversation_id)) {
    CHECK(entry.details.dump().find("wipe") == std::string::npos);
    CHECK(entry.event != "triaged");  // decisions live on the runner's line since schema version 5
  }
  // The decision is kept on the runner's own line: level and flag ids, erased with the transcript.
  const auto line = store.FindByClientMessageId(started.conversation_id, "2");
  REQUIRE(line);
  CHECK(line->triage.value("level", "") == "emergency");
  CHECK_FALSE(line->triage.value("flags", nlohmann::json::array()).empty());
}

TEST_CASE("the runner asking for a coach opens a runner_request escalation", "[service]") {
  Fixture fixture;
  SqliteConversationStore store(":memory:");
  ConversationService service(store, fixture.dependencies);
  const auto started = service.StartConversation("web", "s");
  const auto result = service.HandleInbound(Web("s", "coach", "1"));
  CHECK(result.status == "waiting_for_coach");
  const auto escalations = store.EscalationsFor(started.conversation_id);
  REQUIRE(escalations.size() == 1);
  CHECK(escalations[0].reason == "runner_request");
  CHECK(escalations[0].status == "open");
  CHECK(dialog::ParseTriageLevel(escalations[0].level));
}

TEST_CASE("a new service on the same file continues the conversation from the same state", "[service]") {
  Fixture fixture;
  testing::TempDirectory directory;
  const std::string path = directory.File("restart.db");
  const std::vector<std::string> before = {"pain", "no", "no"};
  const std::vector<std::string> after = {"no", "no"};
  std::int64_t conversation_id = 0;
  {
    SqliteConversationStore store(path);
    ConversationService service(store, fixture.dependencies);
    conversation_id = service.StartConversation("web", "s").conversation_id;
    for (std::size_t i = 0; i < before.size(); ++i) service.HandleInbound(Web("s", before[i], "b" + std::to_string(i)));
  }
  SqliteConversationStore store(path);
  ConversationService service(store, fixture.dependencies);
  std::vector<std::string> inputs = before;
  for (std::size_t i = 0; i < after.size(); ++i) {
    service.HandleInbound(Web("s", after[i], "a" + std::to_string(i)));
    inputs.push_back(after[i]);
  }
  // A replay from before the restart is still recognised.
  CHECK(service.HandleInbound(Web("s", "pain", "b0")).duplicate);
  const auto oracle = RunDirectly(fixture.dependencies, inputs);
  CHECK(Texts(service.Transcript(conversation_id, 0)) == oracle.replies);
  const auto row = service.FindConversation("web", "s");
  REQUIRE(row);
  CHECK(row->state_key == oracle.snapshot.state_key);
  CHECK(row->slots == oracle.snapshot.slots);
}

TEST_CASE("two services taking turns on one conversation never continue from a state the other replaced", "[service]") {
  // Each service remembers the slots its last turn saved; the other one's turn in between must make that memory
  // miss, or the next turn would continue from stale slots.
  Fixture fixture;
  testing::TempDirectory directory;
  SqliteConversationStore store(directory.File("shared.db"));
  ConversationService first(store, fixture.dependencies);
  ConversationService second(store, fixture.dependencies);
  std::vector<std::string> replies = Texts(first.StartConversation("web", "s").replies);
  for (std::size_t i = 0; i < kPainWalk.size(); ++i) {
    // Two turns in a row on one service (its memory hits), then two on the other (a miss, then a hit).
    ConversationService& service = (i / 2) % 2 == 0 ? first : second;
    for (const auto& reply : service.HandleInbound(Web("s", kPainWalk[i], "m-" + std::to_string(i))).replies) {
      replies.push_back(reply.text);
    }
  }
  const auto oracle = RunDirectly(fixture.dependencies, kPainWalk);
  CHECK(replies == oracle.replies);
  const auto row = first.FindConversation("web", "s");
  REQUIRE(row);
  CHECK(row->state_key == oracle.snapshot.state_key);
  CHECK(row->slots == oracle.snapshot.slots);
  CHECK(Texts(first.Transcript(row->id, 0)) == oracle.replies);
}

TEST_CASE("the dialog throwing rolls the whole turn back", "[service]") {
  Fixture fixture;
  SqliteConversationStore store(":memory:");
  ConversationService service(store, fixture.dependencies);

  SECTION("an existing conversation keeps its transcript and state") {
    const auto started = service.StartConversation("web", "s");
    service.HandleInbound(Web("s", "pain", "1"));
    const auto row_before = service.FindConversation("web", "s");
    const auto transcript_before = service.Transcript(started.conversation_id, 0);
    CHECK_THROWS_WITH(service.HandleInbound(Web("s", "do running shoes explode?", "2")),
                      Catch::Contains("knowledge index unavailable"));
    const auto row_after = service.FindConversation("web", "s");
    CHECK(row_after->state_key == row_before->state_key);
    CHECK(row_after->slots == row_before->slots);
    CHECK(row_after->updated_at_ms == row_before->updated_at_ms);
    CHECK(service.Transcript(started.conversation_id, 0).size() == transcript_before.size());
    CHECK(store.UnansweredQuestionsFor(started.conversation_id).empty());
    // The failed message's id was never stored, so the runner's retry is a fresh turn, not a duplicate.
    const auto retry = service.HandleInbound(Web("s", "which shoes should I buy?", "2"));
    CHECK_FALSE(retry.duplicate);
  }
  SECTION("a conversation created by the failing message does not exist afterwards") {
    CHECK_THROWS(service.HandleInbound({"telegram", "chat-1", "do shoes explode?", "u1"}));
    CHECK_FALSE(service.FindConversation("telegram", "chat-1"));
    CHECK(store.Metrics().conversations_by_state.empty());
  }
}

TEST_CASE("a writer that bypasses the service mid-turn makes the turn fail whole instead of being overwritten",
          "[service]") {
  Fixture fixture;
  SqliteConversationStore store(":memory:");
  ConversationService service(store, fixture.dependencies);
  const auto started = service.StartConversation("web", "s");
  // Another process (or a buggy caller without the conversation lock) saves the row while the dialog computes.
  fixture.knowledge.while_answering = [&] {
    auto row = *store.GetConversation(started.conversation_id);
    row.slots["touched_by"] = "someone else";
    store.InTransaction([&] { store.SaveConversation(row); });
  };
  const auto transcript_before = service.Transcript(started.conversation_id, 0);
  CHECK_THROWS_AS(service.HandleInbound(Web("s", "which shoes are best?", "1")), ConcurrentUpdateError);
  fixture.knowledge.while_answering = nullptr;
  CHECK(service.FindConversation("web", "s")->slots["touched_by"] == "someone else");
  CHECK(service.Transcript(started.conversation_id, 0).size() == transcript_before.size());
  // The retry computes from the new state and goes through.
  const auto retry = service.HandleInbound(Web("s", "which shoes are best?", "1"));
  CHECK_FALSE(retry.duplicate);
  CHECK_FALSE(retry.replies.empty());
}

TEST_CASE("a store failure in the middle of a turn's writes rolls back the whole turn", "[service]") {
  Fixture fixture;
  testing::TempDirectory directory;
  const std::string path = directory.File("failing.db");
  SqliteConversationStore store(path);
  ConversationService service(store, fixture.dependencies);
  const auto started = service.StartConversation("web", "s");
  const auto transcript_before = service.Transcript(started.conversation_id, 0);
  const auto row_before = service.FindConversation("web", "s");
  {
    // Another connection makes every bot line fail, as a full disk would: the user line is already written.
    SqliteDatabase saboteur(path);
    saboteur.Execute(
        "CREATE TRIGGER fail_replies BEFORE INSERT ON messages WHEN NEW.author = 'bot' "
        "BEGIN SELECT RAISE(ABORT, 'simulated disk full'); END",
        "install failing trigger");
  }
  CHECK_THROWS_WITH(service.HandleInbound(Web("s", "pain", "1")),
                    Catch::Contains("append message") && Catch::Contains("simulated disk full"));
  CHECK(service.Transcript(started.conversation_id, 0).size() == transcript_before.size());
  CHECK_FALSE(store.FindByClientMessageId(started.conversation_id, "1"));
  const auto row_after = service.FindConversation("web", "s");
  CHECK(row_after->state_key == row_before->state_key);
  CHECK(row_after->revision == row_before->revision);
  {
    SqliteDatabase repair(path);
    repair.Execute("DROP TRIGGER fail_replies", "remove failing trigger");
  }
  const auto retry = service.HandleInbound(Web("s", "pain", "1"));
  CHECK_FALSE(retry.duplicate);
  CHECK_FALSE(retry.replies.empty());
}

TEST_CASE("invalid UTF-8, 10,000 characters and empty text are answered and stored clean", "[service]") {
  Fixture fixture;
  SqliteConversationStore store(":memory:");
  ConversationService service(store, fixture.dependencies);
  const auto started = service.StartConversation("web", "s");

  const auto garbled = service.HandleInbound(Web("s", std::string("my back \xff\xfe hurts \xc3"), "1"));
  CHECK_FALSE(garbled.replies.empty());
  const auto huge = service.HandleInbound(Web("s", std::string(10000, 'a'), "2"));
  CHECK_FALSE(huge.replies.empty());
  const auto empty = service.HandleInbound(Web("s", "", "3"));
  CHECK_FALSE(empty.replies.empty());

  for (const auto& message : service.Transcript(started.conversation_id, 0)) {
    CHECK(dialog::IsValidUtf8(message.text));
    CHECK(message.text.size() <= dialog::kMaxMessageBytes);
  }
  const auto user_line = [&](const std::string& client_id) {
    return store.FindByClientMessageId(started.conversation_id, client_id);
  };
  REQUIRE(user_line("2"));
  CHECK(user_line("2")->text.size() < 10000);
  REQUIRE(user_line("3"));
  CHECK(user_line("3")->text.empty());
  CHECK(CountAudit(store, started.conversation_id, "input_cleaned") == 2);
  CHECK_NOTHROW(service.Export(started.conversation_id).dump());
}

TEST_CASE("a question the content cannot answer is stored for the authors", "[service]") {
  Fixture fixture;
  SqliteConversationStore store(":memory:");
  ConversationService service(store, fixture.dependencies);
  const auto started = service.StartConversation("web", "s");
  service.HandleInbound(Web("s", "is it ok to run on the moon?", "1"));
  const auto questions = store.UnansweredQuestionsFor(started.conversation_id);
  REQUIRE(questions.size() == 1);
  CHECK(questions[0].question == "is it ok to run on the moon?");
}

TEST_CASE("a coach takes over: the bot stays quiet, readers wake, and the bot returns on hand-back", "[service]") {
  Fixture fixture;
  SqliteConversationStore store(":memory:");
  ConversationService service(store, fixture.dependencies);
  const auto started = service.StartConversation("web", "s");
  const auto escalated = service.HandleInbound(Web("s", "coach", "1"));
  REQUIRE(escalated.status == "waiting_for_coach");
  const std::int64_t seen = escalated.replies.empty() ? escalated.user_message_id : escalated.replies.back().id;

  std::vector<MessageRecord> woken;
  std::thread reader([&] { woken = service.WaitForMessages(started.conversation_id, seen, std::chrono::seconds(60)); });
  const auto coach_line = service.PostCoachMessage(started.conversation_id, "Sam", "Hi, I'm Sam. How are you?");
  reader.join();
  REQUIRE_FALSE(woken.empty());
  CHECK(std::any_of(woken.begin(), woken.end(), [&](const MessageRecord& m) { return m.id == coach_line.id; }));
  CHECK(coach_line.author == Author::coach);

  const auto row = service.FindConversation("web", "s");
  CHECK(row->status == "coach");
  const auto escalations = store.EscalationsFor(started.conversation_id);
  REQUIRE(escalations.size() == 1);
  CHECK(escalations[0].status == "claimed");
  CHECK(escalations[0].claimed_by == "Sam");

  const auto quiet = service.HandleInbound(Web("s", "thanks, it still hurts", "2"));
  CHECK(quiet.replies.empty());
  CHECK(quiet.status == "coach");
  REQUIRE(store.FindByClientMessageId(started.conversation_id, "2"));

  const auto handed_back = service.HandBackToBot(started.conversation_id);
  CHECK_FALSE(handed_back.empty());
  CHECK(service.FindConversation("web", "s")->status == "bot");
  CHECK(store.EscalationsFor(started.conversation_id)[0].status == "closed");
  CHECK_FALSE(service.HandleInbound(Web("s", "hello", "3")).replies.empty());
  CHECK(service.HandBackToBot(started.conversation_id).empty());  // no coach talking: nothing to do

  CHECK_THROWS_AS(service.PostCoachMessage(9999, "Sam", "hello?"), std::invalid_argument);
}

TEST_CASE("WaitForMessages returns stored messages at once, times out empty, and stops on request", "[service]") {
  Fixture fixture;
  SqliteConversationStore store(":memory:");
  ConversationService service(store, fixture.dependencies);
  const auto started = service.StartConversation("web", "s");
  const auto last = started.replies.back().id;

  CHECK(service.WaitForMessages(started.conversation_id, 0, std::chrono::hours(1)).size() == started.replies.size());
  CHECK(service.WaitForMessages(started.conversation_id, last, std::chrono::milliseconds(0)).empty());

  std::vector<MessageRecord> woken = {MessageRecord{}};
  std::thread reader([&] { woken = service.WaitForMessages(started.conversation_id, last, std::chrono::hours(1)); });
  service.StopWaiting();
  reader.join();
  CHECK(woken.empty());
}

TEST_CASE("a runner's message wakes a reader waiting on that conversation", "[service]") {
  Fixture fixture;
  SqliteConversationStore store(":memory:");
  ConversationService service(store, fixture.dependencies);
  const auto started = service.StartConversation("web", "s");
  std::vector<MessageRecord> woken;
  std::thread reader([&] {
    woken = service.WaitForMessages(started.conversation_id, started.replies.back().id, std::chrono::seconds(60));
  });
  const auto turn = service.HandleInbound(Web("s", "pain", "1"));
  reader.join();
  REQUIRE_FALSE(woken.empty());
  CHECK(woken.front().id == turn.user_message_id);
}

TEST_CASE("export holds the runner's data without secrets; erase removes it and leaves an audit entry", "[service]") {
  Fixture fixture;
  SqliteConversationStore store(":memory:");
  ConversationService service(store, fixture.dependencies);
  const auto started = service.StartConversation("web", "s", std::string(16, '\x07'));
  service.HandleInbound(Web("s", "is swimming on the moon ok?", "1"));
  service.HandleInbound(Web("s", "pain", "2"));
  service.HandleInbound(Web("s", "yes", "3"));
  store.InTransaction([&] { store.AddCoachNote({0, started.conversation_id, "Sam", "phone tomorrow", 0}); });

  const auto exported = service.Export(started.conversation_id);
  CHECK(exported["conversation"]["external_id"] == "s");
  CHECK(exported["conversation"]["triage_level"] == "emergency");
  CHECK_FALSE(exported["conversation"].contains("access_token_hash"));
  CHECK(exported["messages"].size() == service.Transcript(started.conversation_id, 0).size());
  CHECK(exported["messages"][0]["author"] == "bot");
  CHECK(exported["escalations"].size() == 1);
  CHECK(exported["unanswered_questions"].size() == 1);
  CHECK(exported["coach_notes"][0]["text"] == "phone tomorrow");
  CHECK(CountAudit(store, started.conversation_id, "exported") == 1);

  CHECK(service.Erase(started.conversation_id));
  CHECK_FALSE(service.FindConversation("web", "s"));
  CHECK(service.Export(started.conversation_id).is_null());
  CHECK(service.Transcript(started.conversation_id, 0).empty());
  CHECK(store.EscalationsFor(started.conversation_id).empty());
  CHECK(store.UnansweredQuestionsFor(started.conversation_id).empty());
  CHECK(store.CoachNotesFor(started.conversation_id).empty());
  const auto trail = store.AuditTrail(started.conversation_id);
  REQUIRE_FALSE(trail.empty());
  CHECK(trail.back().event == "conversation_erased");
  for (const auto& entry : trail) {
    const auto details = entry.details.dump();
    CHECK(details.find("\"s\"") == std::string::npos);  // no external id
    CHECK(details.find("moon") == std::string::npos);   // no message text
  }
  CHECK_FALSE(service.Erase(started.conversation_id));
  // The same session id starts afresh.
  CHECK_FALSE(service.StartConversation("web", "s").duplicate);
}

TEST_CASE("access token hashes verify in constant time and only for their own session", "[service]") {
  Fixture fixture;
  SqliteConversationStore store(":memory:");
  ConversationService service(store, fixture.dependencies);
  const std::string hash(32, '\x5a');
  service.StartConversation("web", "with-token", hash);
  service.StartConversation("web", "without-token");
  CHECK(service.VerifyAccessToken("web", "with-token", hash));
  std::string wrong = hash;
  wrong[31] = '\x5b';
  CHECK_FALSE(service.VerifyAccessToken("web", "with-token", wrong));
  CHECK_FALSE(service.VerifyAccessToken("web", "with-token", hash.substr(0, 16)));
  CHECK_FALSE(service.VerifyAccessToken("web", "with-token", ""));
  CHECK_FALSE(service.VerifyAccessToken("web", "without-token", ""));
  CHECK_FALSE(service.VerifyAccessToken("web", "nobody", hash));
}

TEST_CASE("a conversation another process erased is not written back from this process's memory", "[service]") {
  // The first service remembers the row and the identity after its turn; the second erases the conversation.
  Fixture fixture;
  testing::TempDirectory directory;
  SqliteConversationStore store(directory.File("shared.db"));
  ConversationService first(store, fixture.dependencies);
  ConversationService second(store, fixture.dependencies);
  SECTION("a web session (never created by a message) is not found") {
    const auto started = first.StartConversation("web", "s", "hash");
    first.HandleInbound(Web("s", "pain", "m-1"));
    REQUIRE(first.FindIdentity("web", "s"));
    REQUIRE(second.Erase(started.conversation_id));
    InboundMessage late = Web("s", "no", "m-2");
    late.create_if_missing = false;
    CHECK(first.HandleInbound(late).not_found);
    CHECK_FALSE(store.FindConversation("web", "s"));
    CHECK(first.Transcript(started.conversation_id, 0).empty());
  }
  SECTION("a channel conversation starts afresh, under a new row") {
    const auto opened = first.HandleInbound({"telegram", "chat-1", "pain", "u-1"});
    REQUIRE(second.Erase(opened.conversation_id));
    const auto again = first.HandleInbound({"telegram", "chat-1", "hello", "u-2"});
    CHECK_FALSE(again.duplicate);
    const auto row = store.FindConversation("telegram", "chat-1");
    REQUIRE(row);
    CHECK(row->id == again.conversation_id);
    const auto transcript = first.Transcript(row->id, 0);
    REQUIRE_FALSE(transcript.empty());
    // "hello" with the greeting again: nothing of the erased conversation.
    CHECK(transcript.front().text == "hello");
    CHECK(transcript.size() == 1 + again.replies.size());
    CHECK(std::none_of(transcript.begin(), transcript.end(),
                       [](const MessageRecord& line) { return line.text == "pain"; }));
  }
}

TEST_CASE("identities come from memory after the first lookup and go with an erase", "[service]") {
  Fixture fixture;
  testing::TempDirectory directory;
  SqliteConversationStore store(directory.File("identity.db"));
  ConversationService service(store, fixture.dependencies);
  const auto started = service.StartConversation("web", "s", "hash");
  const auto identity = service.FindIdentity("web", "s");
  REQUIRE(identity);
  CHECK(identity->id == started.conversation_id);
  CHECK(identity->access_token_hash == "hash");
  CHECK_FALSE(service.FindIdentity("web", "nobody"));
  // A second service on the same file finds it by reading the row.
  ConversationService other(store, fixture.dependencies);
  CHECK(other.FindIdentity("web", "s")->id == started.conversation_id);
  REQUIRE(service.Erase(started.conversation_id));
  CHECK_FALSE(service.FindIdentity("web", "s"));
  CHECK_FALSE(service.VerifyAccessToken("web", "s", "hash"));

  // From memory: a row removed behind the service's back (as another process would) is still known to it until
  // its next turn's save finds nothing, while a service that never looked it up reads that it is gone.
  const auto behind_back = service.StartConversation("web", "t", "hash");
  store.InTransaction([&] { store.DeleteConversation(behind_back.conversation_id); });
  CHECK(service.FindIdentity("web", "t").has_value());
  ConversationService fresh(store, fixture.dependencies);
  CHECK_FALSE(fresh.FindIdentity("web", "t"));
}

TEST_CASE("a turn says whether it raised the conversation's triage level", "[service]") {
  Fixture fixture;
  SqliteConversationStore store(":memory:");
  ConversationService service(store, fixture.dependencies);
  service.StartConversation("web", "s");
  const auto quiet = service.HandleInbound(Web("s", "hello", "m-1"));
  CHECK_FALSE(quiet.triage_level_changed);
  const auto alarming = service.HandleInbound(Web("s", "I can't feel my bum when I wipe and I wet myself", "m-2"));
  REQUIRE(alarming.triage_level);
  CHECK(*alarming.triage_level == "emergency");
  CHECK(alarming.triage_level_changed);
  const auto after = service.HandleInbound(Web("s", "ok", "m-3"));
  CHECK(after.triage_level == alarming.triage_level);
  CHECK_FALSE(after.triage_level_changed);
  const auto replay = service.HandleInbound(Web("s", "I can't feel my bum when I wipe and I wet myself", "m-2"));
  CHECK(replay.duplicate);
  CHECK_FALSE(replay.triage_level_changed);
}

// Figures for docs/storage.md, not a check: hidden from the default run, no timed assertion.
// Run: build-store/tests/bot/coach_bot_tests "[measure]"
TEST_CASE("measure: turns per second through the service on a file database", "[.][measure]") {
  Fixture fixture;
  const std::vector<std::string> inputs = {"pain", "no", "which shoes are best?", "hello", "no", "2"};
  // ":memory:" isolates the dialog's and detector's share of a turn from the file's.
  const std::vector<std::pair<std::string, Durability>> setups = {
      {"memory", Durability::normal}, {"normal", Durability::normal}, {"full", Durability::full}};
  for (const auto& [label, durability] : setups) {
    for (const int threads_count : {1, 2, 8}) {
      testing::TempDirectory directory;
      SqliteConversationStore store(label == "memory" ? ":memory:" : directory.File("measure.db"),
                                    {durability, std::chrono::seconds(5)});
      ConversationService service(store, fixture.dependencies);
      constexpr int kTurnsPerThread = 600;
      const auto start = std::chrono::steady_clock::now();
      const std::clock_t cpu_start = std::clock();
      std::vector<std::thread> threads;
      for (int t = 0; t < threads_count; ++t) {
        threads.emplace_back([&, t] {
          for (int i = 0; i < kTurnsPerThread; ++i) {
            // 50 conversations per thread, visited round-robin: realistic state sizes, no single hot row.
            const auto session = "t" + std::to_string(t) + "-c" + std::to_string(i % 50);
            service.HandleInbound(
                Web(session, inputs[static_cast<std::size_t>(i / 50) % inputs.size()], std::to_string(i)));
          }
        });
      }
      for (auto& thread : threads) thread.join();
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
      const double turns = static_cast<double>(threads_count * kTurnsPerThread);
      WARN("database=" << label << " threads=" << threads_count << ": " << turns / seconds << " turns/s, "
                       << 1e6 * cpu_seconds / turns << " us CPU per turn");
    }
  }
}

TEST_CASE("measure: bare store commits per second (user line + reply per transaction)", "[.][measure]") {
  for (const auto durability : {Durability::normal, Durability::full}) {
    testing::TempDirectory directory;
    SqliteConversationStore store(directory.File("measure.db"), {durability, std::chrono::seconds(5)});
    std::int64_t conversation_id = 0;
    ConversationRecord record;
    record.channel = "web";
    record.external_id = "x";
    record.state_key = "greeting";
    store.InTransaction([&] { conversation_id = store.SaveConversation(record); });
    constexpr int kCommits = 5000;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kCommits; ++i) {
      store.InTransaction([&] {
        MessageRecord line;
        line.conversation_id = conversation_id;
        line.text = "my back hurts";
        line.client_message_id = std::to_string(i);
        line.id = store.AppendMessage(line);
        MessageRecord reply;
        reply.conversation_id = conversation_id;
        reply.author = Author::bot;
        reply.text = "Where does it hurt?";
        reply.in_reply_to = line.id;
        store.AppendMessage(reply);
      });
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    WARN("durability=" << ToString(durability) << ": " << kCommits / seconds << " commits/s");
  }
}
