#include "bot/sqlite_conversation_store.h"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include "bot/sqlite_database.h"
#include "temp_directory.h"

using namespace coach::bot;

namespace {

ConversationRecord NewConversation(const std::string& external_id, const std::string& state_key = "greeting") {
  ConversationRecord conversation;
  conversation.channel = "web";
  conversation.external_id = external_id;
  conversation.state_key = state_key;
  return conversation;
}

MessageRecord Line(std::int64_t conversation_id, Author author, const std::string& text,
                   std::optional<std::string> client_message_id = std::nullopt,
                   std::optional<std::int64_t> in_reply_to = std::nullopt) {
  MessageRecord message;
  message.conversation_id = conversation_id;
  message.author = author;
  message.text = text;
  message.client_message_id = std::move(client_message_id);
  message.in_reply_to = in_reply_to;
  return message;
}

EscalationRecord Escalation(std::int64_t conversation_id, const std::string& level, std::int64_t created_at_ms) {
  EscalationRecord escalation;
  escalation.conversation_id = conversation_id;
  escalation.level = level;
  escalation.flags = {"saddle_numbness"};
  escalation.evidence = {"numb when I wipe"};
  escalation.reason = "red_flag";
  escalation.created_at_ms = created_at_ms;
  return escalation;
}

}  // namespace

TEST_CASE("a file database runs in WAL with foreign keys and the chosen durability", "[store]") {
  testing::TempDirectory directory;
  SqliteConversationStore normal(directory.File("normal.db"));
  CHECK(normal.ReadPragma("journal_mode") == "wal");
  CHECK(normal.ReadPragma("foreign_keys") == "1");
  CHECK(normal.ReadPragma("synchronous") == "1");
  CHECK(normal.ReadPragma("busy_timeout") == "5000");
  CHECK(normal.durability() == Durability::normal);

  SqliteConversationStore full(directory.File("nested/folder/full.db"), {Durability::full, std::chrono::seconds(1)});
  CHECK(full.ReadPragma("synchronous") == "2");
  CHECK(full.ReadPragma("busy_timeout") == "1000");
  CHECK(std::filesystem::exists(directory.File("nested/folder/full.db")));
  CHECK_THROWS_AS(full.ReadPragma("journal_mode; DROP TABLE messages"), std::invalid_argument);
}

TEST_CASE("durability names parse both ways", "[store]") {
  CHECK(ParseDurability("normal") == Durability::normal);
  CHECK(ParseDurability("full") == Durability::full);
  CHECK_FALSE(ParseDurability("FULL"));
  CHECK_FALSE(ParseDurability(""));
  CHECK(ToString(Durability::full) == "full");
  CHECK(ToString(Durability::normal) == "normal");
}

TEST_CASE("conversations are saved, found by channel and id, and updated", "[store]") {
  SqliteConversationStore store(":memory:");
  CHECK_FALSE(store.FindConversation("web", "nobody"));
  CHECK_FALSE(store.GetConversation(42));

  auto conversation = NewConversation("session-1");
  conversation.access_token_hash = std::string("\x01\x00\xfe", 3);
  store.InTransaction([&] { conversation.id = store.SaveConversation(conversation); });
  REQUIRE(conversation.id > 0);

  auto found = store.FindConversation("web", "session-1");
  REQUIRE(found);
  CHECK(found->id == conversation.id);
  CHECK(found->state_key == "greeting");
  CHECK(found->status == "bot");
  CHECK_FALSE(found->triage_level);
  CHECK(found->access_token_hash == conversation.access_token_hash);
  CHECK(found->created_at_ms > 0);
  CHECK_FALSE(store.FindConversation("telegram", "session-1"));

  found->state_key = "pain_score";
  found->slots = {{"where", "lower back"}, {"score", 4}};
  found->status = "waiting_for_coach";
  found->triage_level = "urgent";
  found->access_token_hash = "ignored on update";
  store.InTransaction([&] { store.SaveConversation(*found); });
  auto reread = store.GetConversation(conversation.id);
  REQUIRE(reread);
  CHECK(reread->state_key == "pain_score");
  CHECK(reread->slots == found->slots);
  CHECK(reread->status == "waiting_for_coach");
  CHECK(reread->triage_level == "urgent");
  CHECK(reread->access_token_hash == conversation.access_token_hash);
}

TEST_CASE("a save from a stale read is refused: no writer overwrites a state it did not see", "[store]") {
  SqliteConversationStore store(":memory:");
  std::int64_t id = 0;
  store.InTransaction([&] { id = store.SaveConversation(NewConversation("shared")); });
  auto first = *store.GetConversation(id);
  auto second = *store.GetConversation(id);
  CHECK(first.revision == second.revision);

  first.state_key = "pain_score";
  store.InTransaction([&] { store.SaveConversation(first); });
  CHECK(store.GetConversation(id)->revision == first.revision + 1);

  second.state_key = "plan";
  CHECK_THROWS_AS(store.InTransaction([&] { store.SaveConversation(second); }), ConcurrentUpdateError);
  CHECK(store.GetConversation(id)->state_key == "pain_score");
  // Re-read, then save: fine.
  auto fresh = *store.GetConversation(id);
  fresh.state_key = "plan";
  store.InTransaction([&] { store.SaveConversation(fresh); });
  CHECK(store.GetConversation(id)->state_key == "plan");
}

TEST_CASE("a second conversation with the same channel and external id is refused", "[store]") {
  SqliteConversationStore store(":memory:");
  store.InTransaction([&] { store.SaveConversation(NewConversation("same")); });
  CHECK_THROWS_AS(store.InTransaction([&] { store.SaveConversation(NewConversation("same")); }), StoreError);
  auto other_channel = NewConversation("same");
  other_channel.channel = "telegram";
  CHECK_NOTHROW(store.InTransaction([&] { store.SaveConversation(other_channel); }));
}

TEST_CASE("updating a conversation that does not exist is an error", "[store]") {
  SqliteConversationStore store(":memory:");
  auto ghost = NewConversation("ghost");
  ghost.id = 99;
  CHECK_THROWS_WITH(store.InTransaction([&] { store.SaveConversation(ghost); }), Catch::Contains("99"));
}

TEST_CASE("messages append in order, page with after and limit, and keep their fields", "[store]") {
  SqliteConversationStore store(":memory:");
  std::int64_t id = 0;
  std::vector<std::int64_t> message_ids;
  store.InTransaction([&] {
    id = store.SaveConversation(NewConversation("s"));
    for (int i = 0; i < 5; ++i) message_ids.push_back(store.AppendMessage(Line(id, Author::bot, std::to_string(i))));
  });
  for (std::size_t i = 1; i < message_ids.size(); ++i) CHECK(message_ids[i] > message_ids[i - 1]);

  auto all = store.MessagesAfter(id, 0, 100);
  REQUIRE(all.size() == 5);
  CHECK(all.front().text == "0");
  CHECK(all.back().text == "4");
  auto page = store.MessagesAfter(id, message_ids[1], 2);
  REQUIRE(page.size() == 2);
  CHECK(page[0].id == message_ids[2]);
  CHECK(page[1].id == message_ids[3]);
  CHECK(store.MessagesAfter(id, message_ids.back(), 10).empty());

  auto with_buttons = Line(id, Author::bot, "Where does it hurt?");
  with_buttons.quick_replies = nlohmann::json::array({{{"label", "Lower back"}, {"value", "lower_back"}}});
  with_buttons.kind = "emergency";
  with_buttons.created_at_ms = 1234;
  store.InTransaction([&] { store.AppendMessage(with_buttons); });
  auto last = store.MessagesAfter(id, message_ids.back(), 10);
  REQUIRE(last.size() == 1);
  CHECK(last[0].quick_replies == with_buttons.quick_replies);
  CHECK(last[0].kind == "emergency");
  CHECK(last[0].created_at_ms == 1234);
  CHECK(last[0].author == Author::bot);
}

TEST_CASE("several lines appended in one call get ascending ids in order and keep their fields", "[store]") {
  SqliteConversationStore store(":memory:");
  std::int64_t id = 0;
  std::int64_t other = 0;
  std::vector<std::int64_t> ids;
  std::vector<MessageRecord> lines;
  for (int i = 0; i < 19; ++i) lines.push_back(Line(id, Author::bot, "line " + std::to_string(i)));
  store.InTransaction([&] {
    id = store.SaveConversation(NewConversation("s"));
    other = store.SaveConversation(NewConversation("t"));
    store.AppendMessage(Line(other, Author::user, "before"));
    for (auto& line : lines) line.conversation_id = id;
    lines[3].quick_replies = nlohmann::json::array({{{"label", "Yes"}, {"value", "yes"}}});
    lines[3].kind = "emergency";
    lines[4].author = Author::system;
    lines[5].in_reply_to = 7;
    lines[6].client_message_id = "c-6";
    lines[7].created_at_ms = 1234;
    lines[8].triage = {{"level", "self_care"}, {"flags", nlohmann::json::array()}};
    // 19 lines: more than one statement's worth (8 rows), so the batches' ids must line up too.
    ids = store.AppendMessages(lines);
    CHECK(store.AppendMessages({}).empty());
  });
  REQUIRE(ids.size() == lines.size());
  for (std::size_t i = 1; i < ids.size(); ++i) CHECK(ids[i] > ids[i - 1]);
  const auto stored = store.MessagesAfter(id, 0, 100);
  REQUIRE(stored.size() == lines.size());
  for (std::size_t i = 0; i < stored.size(); ++i) {
    CHECK(stored[i].id == ids[i]);
    CHECK(stored[i].text == lines[i].text);
    CHECK(stored[i].created_at_ms > 0);
  }
  CHECK(stored[3].quick_replies == lines[3].quick_replies);
  CHECK(stored[3].kind == "emergency");
  CHECK(stored[2].quick_replies == nlohmann::json::array());
  CHECK(stored[4].author == Author::system);
  CHECK(stored[5].in_reply_to == 7);
  CHECK(stored[6].client_message_id == "c-6");
  CHECK(stored[7].created_at_ms == 1234);
  CHECK(stored[8].triage == lines[8].triage);
  CHECK(stored[9].triage.is_null());
  CHECK(store.MessagesAfter(other, 0, 100).size() == 1);
  CHECK(store.FindByClientMessageId(id, "c-6")->id == ids[6]);
}

TEST_CASE("a runner line keeps its triage decision; lines without one read back null", "[store]") {
  SqliteConversationStore store(":memory:");
  const auto id = store.SaveConversation(NewConversation("triage"));
  auto flagged = Line(id, Author::user, "numb when I wipe", std::string("c-1"));
  flagged.triage = {{"level", "emergency"}, {"flags", {"saddle_numbness"}}};
  const auto flagged_id = store.AppendMessage(flagged);
  store.AppendMessage(Line(id, Author::user, "hello", std::string("c-2")));
  const auto stored = store.MessagesAfter(id, 0, 10);
  REQUIRE(stored.size() == 2);
  CHECK(stored[0].triage == flagged.triage);
  CHECK(stored[1].triage.is_null());
  CHECK(store.FindByClientMessageId(id, "c-1")->id == flagged_id);
}

TEST_CASE("replies to a line are found in order, and a later coach line is not one of them", "[store]") {
  SqliteConversationStore store(":memory:");
  const auto id = store.SaveConversation(NewConversation("replies"));
  const auto first = store.AppendMessage(Line(id, Author::user, "first", std::string("c-1")));
  store.AppendMessages(
      {Line(id, Author::bot, "a", std::nullopt, first), Line(id, Author::bot, "b", std::nullopt, first)});
  store.AppendMessage(Line(id, Author::coach, "coach here"));
  const auto second = store.AppendMessage(Line(id, Author::user, "second", std::string("c-2")));
  store.AppendMessage(Line(id, Author::bot, "c", std::nullopt, second));
  const auto replies = store.RepliesTo(id, first);
  REQUIRE(replies.size() == 2);
  CHECK(replies[0].text == "a");
  CHECK(replies[1].text == "b");
  REQUIRE(store.RepliesTo(id, second).size() == 1);
  CHECK(store.RepliesTo(id, second)[0].text == "c");
}

TEST_CASE("a conversation header has everything but the slots", "[store]") {
  SqliteConversationStore store(":memory:");
  CHECK_FALSE(store.FindConversationHeader("web", "nobody"));
  auto conversation = NewConversation("session-1", "pain_score");
  conversation.access_token_hash = std::string("\x01\x00\xfe", 3);
  conversation.slots = {{"where", "lower back"}};
  conversation.status = "waiting_for_coach";
  conversation.triage_level = "urgent";
  store.InTransaction([&] { conversation.id = store.SaveConversation(conversation); });
  const auto header = store.FindConversationHeader("web", "session-1");
  REQUIRE(header);
  const auto full = store.FindConversation("web", "session-1");
  REQUIRE(full);
  CHECK(header->id == conversation.id);
  CHECK(header->channel == "web");
  CHECK(header->external_id == "session-1");
  CHECK(header->state_key == "pain_score");
  CHECK(header->status == "waiting_for_coach");
  CHECK(header->triage_level == "urgent");
  CHECK(header->access_token_hash == conversation.access_token_hash);
  CHECK(header->revision == full->revision);
  CHECK(header->created_at_ms == full->created_at_ms);
  CHECK(header->slots == nlohmann::json::object());
  CHECK(full->slots == conversation.slots);
  CHECK_FALSE(store.FindConversationHeader("telegram", "session-1"));
}

TEST_CASE("client message ids are found and unique per conversation", "[store]") {
  SqliteConversationStore store(":memory:");
  std::int64_t first = 0;
  std::int64_t second = 0;
  std::int64_t user_line = 0;
  store.InTransaction([&] {
    first = store.SaveConversation(NewConversation("a"));
    second = store.SaveConversation(NewConversation("b"));
    user_line = store.AppendMessage(Line(first, Author::user, "hello", "client-1"));
    store.AppendMessage(Line(first, Author::bot, "hi 1", std::nullopt, user_line));
    store.AppendMessage(Line(first, Author::bot, "hi 2", std::nullopt, user_line));
    store.AppendMessage(Line(first, Author::coach, "coach here"));
    store.AppendMessage(Line(second, Author::user, "hello", "client-1"));  // another conversation: allowed
  });
  auto found = store.FindByClientMessageId(first, "client-1");
  REQUIRE(found);
  CHECK(found->id == user_line);
  CHECK(found->client_message_id == "client-1");
  CHECK_FALSE(store.FindByClientMessageId(first, "client-2"));

  auto replies = store.RepliesTo(first, user_line);
  REQUIRE(replies.size() == 2);
  CHECK(replies[0].text == "hi 1");
  CHECK(replies[1].text == "hi 2");
  CHECK(replies[0].in_reply_to == user_line);

  CHECK_THROWS_AS(store.InTransaction([&] { store.AppendMessage(Line(first, Author::user, "again", "client-1")); }),
                  StoreError);
}

TEST_CASE("a message for a missing conversation violates the foreign key", "[store]") {
  SqliteConversationStore store(":memory:");
  CHECK_THROWS_WITH(store.InTransaction([&] { store.AppendMessage(Line(404, Author::user, "x")); }),
                    Catch::Contains("FOREIGN KEY"));
}

TEST_CASE("a throwing unit of work leaves nothing behind", "[store]") {
  SqliteConversationStore store(":memory:");
  CHECK_THROWS_AS(store.InTransaction([&] {
    auto id = store.SaveConversation(NewConversation("doomed"));
    store.AppendMessage(Line(id, Author::user, "hello"));
    throw std::runtime_error("the dialog failed");
  }),
                  std::runtime_error);
  CHECK_FALSE(store.FindConversation("web", "doomed"));
  // The store stays usable.
  store.InTransaction([&] { store.SaveConversation(NewConversation("fine")); });
  CHECK(store.FindConversation("web", "fine"));
}

TEST_CASE("a nested unit of work is a savepoint inside the outer one", "[store]") {
  SqliteConversationStore store(":memory:");
  store.InTransaction([&] {
    store.SaveConversation(NewConversation("outer"));
    try {
      store.InTransaction([&] {
        store.SaveConversation(NewConversation("inner"));
        throw std::runtime_error("inner failed");
      });
    } catch (const std::runtime_error&) {
    }
    store.InTransaction([&] { store.SaveConversation(NewConversation("inner-ok")); });
  });
  CHECK(store.FindConversation("web", "outer"));
  CHECK_FALSE(store.FindConversation("web", "inner"));
  CHECK(store.FindConversation("web", "inner-ok"));
}

TEST_CASE("escalations are opened, updated and queued by urgency then age", "[store]") {
  SqliteConversationStore store(":memory:");
  std::int64_t a = 0;
  std::int64_t b = 0;
  std::int64_t closed = 0;
  store.InTransaction([&] {
    a = store.SaveConversation(NewConversation("a"));
    b = store.SaveConversation(NewConversation("b"));
    store.OpenEscalation(Escalation(a, "see_professional", 100));
    store.OpenEscalation(Escalation(b, "urgent", 300));
    store.OpenEscalation(Escalation(a, "emergency", 400));
    store.OpenEscalation(Escalation(b, "urgent", 200));
    closed = store.OpenEscalation(Escalation(b, "emergency", 50));
  });
  auto to_close = store.EscalationsFor(b);
  REQUIRE(to_close.size() == 3);
  to_close.back().status = "closed";
  to_close.back().closed_at_ms = 999;
  REQUIRE(to_close.back().id == closed);
  store.InTransaction([&] { store.UpdateEscalation(to_close.back()); });

  auto queue = store.EscalationQueue();
  REQUIRE(queue.size() == 4);
  CHECK(queue[0].level == "emergency");
  CHECK(queue[1].level == "urgent");
  CHECK(queue[1].created_at_ms == 200);
  CHECK(queue[2].created_at_ms == 300);
  CHECK(queue[3].level == "see_professional");
  CHECK(queue[0].flags == nlohmann::json::array({"saddle_numbness"}));
  CHECK(queue[0].evidence == nlohmann::json::array({"numb when I wipe"}));
  CHECK(queue[0].status == "open");

  auto claimed = queue[0];
  claimed.status = "claimed";
  claimed.claimed_by = "Sam";
  claimed.claimed_at_ms = 500;
  store.InTransaction([&] { store.UpdateEscalation(claimed); });
  auto reread = store.EscalationsFor(a);
  REQUIRE(reread.size() == 2);
  CHECK(reread[1].claimed_by == "Sam");
  CHECK(reread[1].claimed_at_ms == 500);
  CHECK_FALSE(reread[1].closed_at_ms);

  auto bad = claimed;
  bad.status = "lost";
  CHECK_THROWS_AS(store.InTransaction([&] { store.UpdateEscalation(bad); }), StoreError);
}

TEST_CASE("erasing a conversation removes everything attached but keeps the audit trail", "[store]") {
  SqliteConversationStore store(":memory:");
  std::int64_t erased = 0;
  std::int64_t kept = 0;
  std::int64_t last_message = 0;
  store.InTransaction([&] {
    erased = store.SaveConversation(NewConversation("erase-me"));
    kept = store.SaveConversation(NewConversation("keep-me"));
    store.AppendMessage(Line(erased, Author::user, "secret"));
    last_message = store.AppendMessage(Line(erased, Author::bot, "reply"));
    store.AppendMessage(Line(kept, Author::user, "still here"));
    store.OpenEscalation(Escalation(erased, "urgent", 1));
    store.RecordUnansweredQuestion("is yoga good", erased);
    store.AddCoachNote({0, erased, "Sam", "called the runner", 0});
    store.Audit(erased, "conversation_started", {{"channel", "web"}});
  });
  store.InTransaction([&] {
    store.DeleteConversation(erased);
    store.Audit(erased, "conversation_erased", nlohmann::json::object());
  });
  CHECK_FALSE(store.GetConversation(erased));
  CHECK(store.MessagesAfter(erased, 0, 100).empty());
  CHECK(store.EscalationsFor(erased).empty());
  CHECK(store.UnansweredQuestionsFor(erased).empty());
  CHECK(store.CoachNotesFor(erased).empty());
  auto trail = store.AuditTrail(erased);
  REQUIRE(trail.size() == 2);
  CHECK(trail[1].event == "conversation_erased");
  CHECK(store.MessagesAfter(kept, 0, 100).size() == 1);
  CHECK(store.IntegrityCheck().empty());

  // Message ids are event ids: an erased conversation's ids are never handed out again.
  std::int64_t next = 0;
  store.InTransaction([&] { next = store.AppendMessage(Line(kept, Author::bot, "new")); });
  CHECK(next > last_message);
}

TEST_CASE("erasing the newest conversation does not let its message ids be given again", "[store]") {
  testing::TempDirectory directory;
  const std::string path = directory.File("coachbot.db");
  SqliteConversationStore store(path);
  const auto kept = store.SaveConversation(NewConversation("keep-me"));
  store.AppendMessage(Line(kept, Author::user, "first"));
  std::int64_t last_erased = 0;
  for (int round = 0; round < 2; ++round) {
    // The newest lines belong to the conversation erased next (SQLite alone would give its ids again).
    const auto erased = store.SaveConversation(NewConversation("erase-me-" + std::to_string(round)));
    store.AppendMessage(Line(erased, Author::user, "secret"));
    last_erased = store.AppendMessage(Line(erased, Author::bot, "reply"));
    store.InTransaction([&] { store.DeleteConversation(erased); });
    const auto next = store.AppendMessage(Line(kept, Author::bot, "after the erase"));
    CHECK(next > last_erased);
  }
  // The floor row is nobody's line, and one is kept at most.
  const auto transcript = store.MessagesAfter(kept, 0, 100);
  REQUIRE(transcript.size() == 3);
  CHECK(transcript[2].text == "after the erase");
  SqliteDatabase inspect(path);
  CHECK(inspect.QueryText("SELECT count(*) FROM messages WHERE conversation_id IS NULL", "count floor rows") == "1");
  CHECK(inspect.QueryText("SELECT count(*) FROM messages WHERE conversation_id IS NULL AND text <> ''",
                          "floor rows hold no text") == "0");
  CHECK(store.IntegrityCheck().empty());
}

TEST_CASE("unanswered questions and coach notes are kept per conversation", "[store]") {
  SqliteConversationStore store(":memory:");
  std::int64_t id = 0;
  store.InTransaction([&] {
    id = store.SaveConversation(NewConversation("q"));
    store.RecordUnansweredQuestion("can I swim?", id);
    store.RecordUnansweredQuestion("what about cycling?", id);
    store.AddCoachNote({0, id, "Sam", "prefers mornings", 0});
  });
  auto questions = store.UnansweredQuestionsFor(id);
  REQUIRE(questions.size() == 2);
  CHECK(questions[0].question == "can I swim?");
  auto recent = store.RecentUnansweredQuestions(1);
  REQUIRE(recent.size() == 1);
  CHECK(recent[0].question == "what about cycling?");
  auto notes = store.CoachNotesFor(id);
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].coach_name == "Sam");
  CHECK(notes[0].created_at_ms > 0);
}

TEST_CASE("metrics count conversations by state, status and level and live escalations by level", "[store]") {
  SqliteConversationStore store(":memory:");
  store.InTransaction([&] {
    auto a = NewConversation("a", "greeting");
    auto b = NewConversation("b", "pain_score");
    b.triage_level = "self_care";
    auto c = NewConversation("c", "waiting_for_coach");
    c.status = "waiting_for_coach";
    c.triage_level = "emergency";
    store.SaveConversation(a);
    store.SaveConversation(b);
    auto c_id = store.SaveConversation(c);
    store.SaveConversation(NewConversation("d", "greeting"));
    store.OpenEscalation(Escalation(c_id, "emergency", 1));
    auto closed = Escalation(c_id, "urgent", 2);
    closed.status = "closed";
    store.OpenEscalation(closed);
    auto claimed = Escalation(c_id, "urgent", 3);
    claimed.status = "claimed";
    store.OpenEscalation(claimed);
  });
  auto metrics = store.Metrics();
  CHECK(metrics.conversations_by_state ==
        std::map<std::string, std::int64_t>{{"greeting", 2}, {"pain_score", 1}, {"waiting_for_coach", 1}});
  CHECK(metrics.conversations_by_status == std::map<std::string, std::int64_t>{{"bot", 3}, {"waiting_for_coach", 1}});
  CHECK(metrics.conversations_by_level == std::map<std::string, std::int64_t>{{"emergency", 1}, {"self_care", 1}});
  CHECK(metrics.open_escalations_by_level == std::map<std::string, std::int64_t>{{"emergency", 1}, {"urgent", 1}});
  // Inside a unit of work too (no nested BEGIN).
  store.InTransaction([&] { CHECK(store.Metrics().conversations_by_state.size() == 3); });
}

TEST_CASE("JSON with invalid UTF-8 is stored with replacement characters instead of failing", "[store]") {
  SqliteConversationStore store(":memory:");
  auto conversation = NewConversation("utf8");
  conversation.slots = {{"where", std::string("back\xff\xfe")}};
  std::int64_t id = 0;
  REQUIRE_NOTHROW(store.InTransaction([&] { id = store.SaveConversation(conversation); }));
  auto reread = store.GetConversation(id);
  REQUIRE(reread);
  CHECK(reread->slots["where"].get<std::string>().rfind("back", 0) == 0);
  CHECK(reread->slots.dump().find('\xff') == std::string::npos);
}

TEST_CASE("many threads writing at once lose nothing", "[store]") {
  SqliteConversationStore store(":memory:");
  constexpr int kThreads = 8;
  constexpr int kMessages = 50;
  std::vector<std::int64_t> ids(kThreads);
  store.InTransaction([&] {
    for (int t = 0; t < kThreads; ++t) ids[t] = store.SaveConversation(NewConversation("t" + std::to_string(t)));
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kMessages; ++i) {
        store.InTransaction([&] { store.AppendMessage(Line(ids[t], Author::user, std::to_string(i))); });
        store.MessagesAfter(ids[t], 0, 1);  // reads outside a transaction interleave with others' writes
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    auto messages = store.MessagesAfter(ids[t], 0, 1000);
    REQUIRE(messages.size() == kMessages);
    for (int i = 0; i < kMessages; ++i) CHECK(messages[i].text == std::to_string(i));
  }
}

TEST_CASE("units of work queued during a transaction commit together, a throwing one undoes only itself", "[store]") {
  testing::TempDirectory directory;
  SqliteConversationStore store(directory.File("group.db"));
  std::int64_t id = 0;
  store.InTransaction([&] { id = store.SaveConversation(NewConversation("s")); });

  std::thread::id kept_thread;
  std::thread::id failed_thread;
  std::atomic<bool> first_running{false};
  std::thread first([&] {
    store.InTransaction([&] {
      store.AppendMessage(Line(id, Author::user, "first"));
      first_running = true;
      // Hold this transaction open until both others are queued behind it: they form the next group.
      while (store.QueuedUnitsOfWork() < 2) std::this_thread::yield();
    });
  });
  while (!first_running) std::this_thread::yield();
  std::thread kept([&] {
    store.InTransaction([&] {
      kept_thread = std::this_thread::get_id();
      store.AppendMessage(Line(id, Author::bot, "kept"));
    });
  });
  bool failed_threw = false;
  std::thread failed([&] {
    try {
      store.InTransaction([&] {
        failed_thread = std::this_thread::get_id();
        store.AppendMessage(Line(id, Author::bot, "undone"));
        throw std::runtime_error("dialog failed");
      });
    } catch (const std::runtime_error& error) {
      failed_threw = std::string(error.what()) == "dialog failed";
    }
  });
  first.join();
  kept.join();
  failed.join();

  CHECK(failed_threw);
  // One thread ran both queued units: they were one group, in one transaction.
  CHECK(kept_thread == failed_thread);
  std::vector<std::string> texts;
  for (const auto& message : store.MessagesAfter(id, 0, 10)) texts.push_back(message.text);
  CHECK(texts == std::vector<std::string>{"first", "kept"});
  CHECK(store.QueuedUnitsOfWork() == 0);
}

TEST_CASE("a file database keeps commits across reopen and checkpoints its WAL to empty", "[store]") {
  testing::TempDirectory directory;
  const std::string path = directory.File("coachbot.db");
  std::int64_t id = 0;
  {
    SqliteConversationStore store(path);
    store.InTransaction([&] {
      id = store.SaveConversation(NewConversation("persist"));
      store.AppendMessage(Line(id, Author::user, "hello"));
    });
    REQUIRE(std::filesystem::exists(path + "-wal"));
    CHECK(std::filesystem::file_size(path + "-wal") > 0);
    store.Checkpoint();
    CHECK(std::filesystem::file_size(path + "-wal") == 0);
    CHECK(store.Ping());
  }
  SqliteConversationStore reopened(path);
  auto conversation = reopened.FindConversation("web", "persist");
  REQUIRE(conversation);
  CHECK(conversation->id == id);
  CHECK(reopened.MessagesAfter(id, 0, 10).size() == 1);
  CHECK(reopened.IntegrityCheck().empty());
}

TEST_CASE("on a file database, a read outside a transaction does not wait for another thread's transaction",
          "[store]") {
  testing::TempDirectory directory;
  SqliteConversationStore store(directory.File("coachbot.db"));
  const auto id = store.SaveConversation(NewConversation("reader"));
  store.AppendMessage(Line(id, Author::user, "committed line"));

  // The writer thread holds its transaction open (uncommitted row inside) until the reader has answered. With
  // reads queued behind the writer this would never finish: the bounded wait turns that into a failure.
  std::promise<void> transaction_open;
  std::promise<void> reader_done;
  auto reader_finished = reader_done.get_future();
  std::thread writer([&] {
    store.InTransaction([&] {
      store.AppendMessage(Line(id, Author::bot, "not committed yet"));
      transaction_open.set_value();
      reader_finished.wait_for(std::chrono::seconds(30));
    });
  });
  transaction_open.get_future().wait();
  const auto seen = store.MessagesAfter(id, 0, 10);
  const auto header = store.FindConversationHeader("web", "reader");
  reader_done.set_value();
  writer.join();

  REQUIRE(seen.size() == 1);  // the last commit, not the open transaction's row
  CHECK(seen.front().text == "committed line");
  CHECK(header.has_value());
  CHECK(store.ReadConnectionsOpened() >= 1);
  CHECK(store.MessagesAfter(id, 0, 10).size() == 2);  // visible once committed
}

TEST_CASE("inside a transaction, reads see the transaction's own rows", "[store]") {
  testing::TempDirectory directory;
  SqliteConversationStore store(directory.File("coachbot.db"));
  store.InTransaction([&] {
    const auto id = store.SaveConversation(NewConversation("own-rows"));
    store.AppendMessage(Line(id, Author::user, "hello", std::string("c-1")));
    CHECK(store.FindConversationHeader("web", "own-rows").has_value());
    CHECK(store.FindByClientMessageId(id, "c-1").has_value());
    CHECK(store.MessagesAfter(id, 0, 10).size() == 1);
  });
}

TEST_CASE("the WAL is checkpointed in the background once it passes the threshold", "[store]") {
  testing::TempDirectory directory;
  const std::string path = directory.File("coachbot.db");
  SqliteConversationStore::Options options;
  options.checkpoint_after_frames = 4;
  SqliteConversationStore store(path, options);
  // Until the first checkpoint every page (the schema's included) is only in the WAL.
  const auto database_bytes_before = std::filesystem::file_size(path);
  const auto id = store.SaveConversation(NewConversation("checkpoint"));
  for (int turn = 0; turn < 20; ++turn) store.AppendMessage(Line(id, Author::user, std::string(2000, 'x')));
  // Bounded wait for the other thread, not a timing assertion: a checkpointer that never runs fails here.
  CHECK(store.WaitForBackgroundCheckpoints(1, std::chrono::seconds(30)) >= 1);
  // And it really copied pages into the database file: a checkpoint that "succeeded" doing nothing (its connection
  // had never read the file, so it did not know about the WAL) once let the WAL grow without bound.
  CHECK(std::filesystem::file_size(path) > database_bytes_before);
  CHECK(std::filesystem::file_size(path) >= 8 * 4096);
  CHECK(store.MessagesAfter(id, 0, 100).size() == 20);
  CHECK(store.IntegrityCheck().empty());
}

TEST_CASE("under steady writes the WAL starts over instead of growing without bound", "[store]") {
  testing::TempDirectory directory;
  const std::string path = directory.File("coachbot.db");
  SqliteConversationStore::Options options;
  options.checkpoint_after_frames = 4;  // a RESTART past 16 frames
  SqliteConversationStore store(path, options);
  const auto id = store.SaveConversation(NewConversation("restart"));
  std::size_t restarts = 0;
  for (int round = 0; round < 6; ++round) {
    for (int turn = 0; turn < 10; ++turn) store.AppendMessage(Line(id, Author::user, std::string(2000, 'x')));
    // Bounded wait for the other thread (not a timing assertion): a checkpointer that never restarts fails here.
    restarts = store.WaitForBackgroundWalRestarts(restarts + 1, std::chrono::seconds(30));
  }
  CHECK(restarts >= 6);
  // The WAL file is reused from its start: with a restart in every round it spans at most about two rounds (plus
  // the schema's frames), however late the checkpoint thread runs, against the 60 commits' 120 or more frames
  // (2 or more pages each) without restarts. (Three rounds of 20 let a slow checkpoint thread reach 121 frames.)
  CHECK(std::filesystem::file_size(path + "-wal") < 60 * 2 * 4096);
  CHECK(store.MessagesAfter(id, 0, 100).size() == 60);
  CHECK(store.IntegrityCheck().empty());
}

TEST_CASE("slots and quick replies serialized before the transaction are stored as given", "[store]") {
  SqliteConversationStore store(":memory:");
  auto conversation = NewConversation("prepared");
  conversation.slots = {{"question", "pain_where"}, {"answers", {{"goal", "10k"}}}};
  // Deliberately different from `slots`, so that the test sees which one was written.
  conversation.slots_text = R"({"question":"prepared"})";
  const auto id = store.SaveConversation(conversation);
  CHECK(store.GetConversation(id)->slots == nlohmann::json{{"question", "prepared"}});

  auto line = Line(id, Author::bot, "Where does it hurt?");
  line.quick_replies = nlohmann::json::array({{{"label", "Low back"}, {"value", "low_back"}}});
  line.quick_replies_text = R"([{"label":"Prepared","value":"prepared"}])";
  auto plain = Line(id, Author::bot, "Anything else?");
  plain.quick_replies = nlohmann::json::array({{{"label", "No"}, {"value", "no"}}});
  store.AppendMessages({line, plain});
  const auto stored = store.MessagesAfter(id, 0, 10);
  REQUIRE(stored.size() == 2);
  CHECK(stored[0].quick_replies[0]["label"] == "Prepared");
  CHECK(stored[1].quick_replies[0]["label"] == "No");  // not prepared: the store serializes it
}

TEST_CASE("a checkpoint is asked for once per threshold frames the WAL grew by, not after every commit", "[store]") {
  testing::TempDirectory directory;
  const std::string path = directory.File("coachbot.db");
  SqliteConversationStore::Options options;
  options.checkpoint_after_frames = 32;
  SqliteConversationStore store(path, options);
  const auto id = store.SaveConversation(NewConversation("growth"));
  // The schema writes about 40 frames, each of these 30 commits 2 to 4 (the row, its index, a new page now
  // and then): under 200 frames, so at most 200 / 32 requests. Asking whenever the WAL held 32 frames asked after
  // every commit, 31 times.
  for (int turn = 0; turn < 30; ++turn) store.AppendMessage(Line(id, Author::user, std::string(2000, 'x')));
  CHECK(store.BackgroundCheckpointsRequested() >= 1);
  CHECK(store.BackgroundCheckpointsRequested() <= 200 / 32);
  CHECK(store.WaitForBackgroundCheckpoints(1, std::chrono::seconds(30)) >= 1);
  CHECK(store.MessagesAfter(id, 0, 100).size() == 30);
}

TEST_CASE("the group commit's savepoints keep their sub-journal in memory", "[store]") {
  testing::TempDirectory directory;
  SqliteConversationStore store(directory.File("coachbot.db"));
  CHECK(store.ReadPragma("temp_store") == "2");
}

TEST_CASE("an in-memory database has no read connections and no background checkpoints", "[store]") {
  SqliteConversationStore store(":memory:");
  const auto id = store.SaveConversation(NewConversation("memory"));
  store.AppendMessage(Line(id, Author::user, "hello"));
  CHECK(store.MessagesAfter(id, 0, 10).size() == 1);
  CHECK(store.ReadConnectionsOpened() == 0);
  CHECK(store.WaitForBackgroundCheckpoints(1, std::chrono::milliseconds(0)) == 0);
}

TEST_CASE("a file that is not a database fails with a StoreError naming the operation", "[store]") {
  testing::TempDirectory directory;
  const std::string path = directory.File("garbage.db");
  {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    REQUIRE(file != nullptr);
    std::string junk(8192, 'x');
    std::fwrite(junk.data(), 1, junk.size(), file);
    std::fclose(file);
  }
  CHECK_THROWS_AS(SqliteConversationStore(path), StoreError);
}

namespace {

bool ReadExactly(int fd, void* buffer, std::size_t size) {
  auto* bytes = static_cast<char*>(buffer);
  while (size > 0) {
    const ssize_t got = ::read(fd, bytes, size);
    if (got <= 0) return false;
    bytes += got;
    size -= static_cast<std::size_t>(got);
  }
  return true;
}

// The child: commits turns as fast as it can and acknowledges each one on the pipe only after its commit, as the
// server answers 200 only after the commit. Never returns; ends by SIGKILL (or SIGPIPE if the parent is gone).
[[noreturn]] void CommitUntilKilled(const std::string& path, int acknowledgements) {
  try {
    SqliteConversationStore store(path);
    std::int64_t id = 0;
    store.InTransaction([&] { id = store.SaveConversation(NewConversation("crash")); });
    for (std::int32_t turn = 0; turn < 10'000'000; ++turn) {
      store.InTransaction([&] {
        const auto line =
            store.AppendMessage(Line(id, Author::user, "turn " + std::to_string(turn), "c" + std::to_string(turn)));
        store.AppendMessage(Line(id, Author::bot, "reply " + std::to_string(turn), std::nullopt, line));
      });
      if (::write(acknowledgements, &turn, sizeof turn) != sizeof turn) ::_exit(3);
    }
  } catch (...) {
    ::_exit(2);
  }
  ::_exit(0);
}

}  // namespace

TEST_CASE("a process killed with SIGKILL mid-load loses no acknowledged commit and leaves a sound file",
          "[store][crash]") {
  testing::TempDirectory directory;
  const std::string path = directory.File("killed.db");
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    CommitUntilKilled(path, pipe_fds[1]);
  }
  ::close(pipe_fds[1]);
  std::int32_t acknowledged = -1;
  std::int32_t turn = 0;
  // Let it get well into the load (WAL growing, automatic checkpoints happening), then kill it mid-stride.
  while (acknowledged < 1500 && ReadExactly(pipe_fds[0], &turn, sizeof turn)) acknowledged = turn;
  ::kill(child, SIGKILL);
  // Acknowledgements already in the pipe count too: those turns were committed before the kill.
  while (ReadExactly(pipe_fds[0], &turn, sizeof turn)) acknowledged = turn;
  ::close(pipe_fds[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  REQUIRE(acknowledged >= 1500);

  SqliteConversationStore reopened(path);
  CHECK(reopened.IntegrityCheck().empty());
  const auto conversation = reopened.FindConversation("web", "crash");
  REQUIRE(conversation);
  const auto messages = reopened.MessagesAfter(conversation->id, 0, 1'000'000);
  // Every acknowledged turn is there, whole (its reply too), in order; at most the one in flight is extra.
  REQUIRE(messages.size() >= 2 * static_cast<std::size_t>(acknowledged + 1));
  CHECK(messages.size() <= 2 * static_cast<std::size_t>(acknowledged + 2));
  CHECK(messages.size() % 2 == 0);
  for (std::size_t i = 0; i < messages.size(); i += 2) {
    const auto expected = std::to_string(i / 2);
    CHECK(messages[i].text == "turn " + expected);
    CHECK(messages[i + 1].text == "reply " + expected);
    CHECK(messages[i + 1].in_reply_to == messages[i].id);
  }
}
