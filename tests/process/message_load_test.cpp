// The transcript comparison that the kill, shutdown and concurrency tests rely on: it must notice a lost, doubled,
// reordered or mismatched message, or those tests could not fail.
#include "message_load.h"

#include <catch2/catch.hpp>

namespace coach::process_tests {
namespace {

TranscriptLine Line(std::int64_t id, const std::string& author, const std::string& text) {
  TranscriptLine line;
  line.id = id;
  line.author = author;
  line.text = text;
  return line;
}

SentMessage Answered(const std::string& text, std::vector<std::pair<std::int64_t, std::string>> replies) {
  SentMessage message;
  message.text = text;
  message.client_message_id = text;
  message.status_code = 200;
  for (const auto& [id, reply_text] : replies) message.replies.push_back(ChatReply{id, reply_text, {}});
  return message;
}

/// Greeting, then two answered turns: "a" -> 3, 4 and "b" -> 6.
SessionLog TwoTurns() {
  SessionLog log;
  log.session.id = "s";
  log.answered.push_back(Answered("a", {{3, "reply a1"}, {4, "reply a2"}}));
  log.answered.push_back(Answered("b", {{6, "reply b"}}));
  return log;
}

std::vector<TranscriptLine> Stored() {
  return {Line(1, "bot", "hello"),    Line(2, "user", "a"), Line(3, "bot", "reply a1"),
          Line(4, "bot", "reply a2"), Line(5, "user", "b"), Line(6, "bot", "reply b")};
}

}  // namespace

TEST_CASE("a transcript that matches the client's log passes", "[process]") {
  CHECK(CompareWithTranscript(TwoTurns(), Stored(), false).empty());
  const auto turns = SplitIntoTurns(Stored());
  REQUIRE(turns.size() == 2);
  CHECK(turns[0].replies.size() == 2);
}

TEST_CASE("a lost answered message is reported", "[process]") {
  auto stored = Stored();
  stored.resize(4);
  CHECK_FALSE(CompareWithTranscript(TwoTurns(), stored, true).empty());
}

TEST_CASE("a message stored twice is reported", "[process]") {
  auto stored = Stored();
  stored.push_back(Line(7, "user", "b"));
  stored.push_back(Line(8, "bot", "reply b"));
  CHECK_FALSE(CompareWithTranscript(TwoTurns(), stored, false).empty());
}

TEST_CASE("replies that are not the ones the client got are reported", "[process]") {
  auto stored = Stored();
  stored[3].text = "something else";
  CHECK_FALSE(CompareWithTranscript(TwoTurns(), stored, false).empty());
  stored = Stored();
  stored.erase(stored.begin() + 3);
  CHECK_FALSE(CompareWithTranscript(TwoTurns(), stored, false).empty());
}

TEST_CASE("messages stored out of order are reported", "[process]") {
  auto stored = Stored();
  std::swap(stored[1].text, stored[4].text);
  CHECK_FALSE(CompareWithTranscript(TwoTurns(), stored, false).empty());
  stored = Stored();
  stored[5].id = 2;
  CHECK_FALSE(CompareWithTranscript(TwoTurns(), stored, false).empty());
}

TEST_CASE("the message in flight may be stored only when that is allowed", "[process]") {
  auto log = TwoTurns();
  SentMessage in_flight;
  in_flight.text = "c";
  log.unanswered = in_flight;
  auto stored = Stored();
  stored.push_back(Line(7, "user", "c"));
  stored.push_back(Line(8, "bot", "reply c"));
  CHECK(CompareWithTranscript(log, stored, true).empty());
  CHECK_FALSE(CompareWithTranscript(log, stored, false).empty());
  CHECK(CompareWithTranscript(log, Stored(), true).empty());
  stored[6].text = "not c";
  CHECK_FALSE(CompareWithTranscript(log, stored, true).empty());
}

}  // namespace coach::process_tests
