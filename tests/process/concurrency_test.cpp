// Issue 4, "How it will be checked": many threads times many conversations, every transcript in order, nothing lost
// or doubled; and several clients writing into one conversation at once are served one turn at a time.
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "chat_api_client.h"
#include "message_load.h"
#include "server_process.h"

namespace coach::process_tests {

TEST_CASE("8 threads x 40 conversations x 10 messages: every transcript matches the client's log", "[process]") {
  constexpr int kThreads = 8;
  constexpr int kConversationsPerThread = 40;
  constexpr int kMessagesPerConversation = 10;

  TemporaryDirectory directory;
  ServerProcess server(CoachbotBinary(), ServeArguments(directory.Path() / "coachbot.db"));
  INFO(server.Output());
  REQUIRE(server.WaitForPort());

  std::vector<SessionLog> logs;
  {
    // Round-robin over each thread's conversations, so the server sees them interleaved.
    MessageLoad load(server.Port(), kThreads, kConversationsPerThread,
                     kConversationsPerThread * kMessagesPerConversation);
    load.Join();
    REQUIRE(load.SetupError().empty());
    CHECK(load.ThreadsCutOff() == 0);
    CHECK(load.AnsweredCount() == kThreads * kConversationsPerThread * kMessagesPerConversation);
    logs = load.Logs();
  }

  ChatApiClient client(server.Port());
  std::set<std::int64_t> reply_ids;
  std::size_t replies = 0;
  for (const auto& log : logs) {
    REQUIRE(log.answered.size() == static_cast<std::size_t>(kMessagesPerConversation));
    for (const auto& message : log.answered) {
      CHECK_FALSE(message.replies.empty());
      for (const auto& reply : message.replies) reply_ids.insert(reply.id);
      replies += message.replies.size();
    }
    const auto transcript = client.Transcript(log.session);
    REQUIRE(transcript);
    for (const auto& problem : CompareWithTranscript(log, *transcript, /*unanswered_may_be_stored=*/false)) {
      FAIL_CHECK(problem);
    }
  }
  // Reply ids are store-wide: no two answers, in any conversation, share one.
  CHECK(reply_ids.size() == replies);

  client.Disconnect();
  const auto stopped = server.Terminate();
  REQUIRE(stopped);
  CHECK(stopped->code == 0);
}

TEST_CASE("clients writing into one conversation at once are served one turn at a time", "[process]") {
  constexpr int kWriters = 4;
  constexpr int kMessagesPerWriter = 25;

  TemporaryDirectory directory;
  ServerProcess server(CoachbotBinary(), ServeArguments(directory.Path() / "coachbot.db"));
  INFO(server.Output());
  REQUIRE(server.WaitForPort());
  ChatApiClient creator(server.Port());
  const auto session = creator.CreateSession();
  REQUIRE(session);

  std::mutex mutex;
  std::vector<SentMessage> answered;
  std::vector<std::string> failures;
  std::vector<std::thread> writers;
  for (int writer = 0; writer < kWriters; ++writer) {
    writers.emplace_back([&, writer] {
      ChatApiClient client(server.Port());
      for (int index = 0; index < kMessagesPerWriter; ++index) {
        SentMessage message;
        message.text = "writer " + std::to_string(writer) + " says " + std::to_string(index) + ": " +
                       RunnerMessages()[static_cast<std::size_t>(index) % RunnerMessages().size()];
        message.client_message_id = "writer-" + std::to_string(writer) + "-" + std::to_string(index);
        auto outcome = client.Send(*session, message.text, message.client_message_id);
        std::lock_guard<std::mutex> lock(mutex);
        if (outcome.status_code != 200) {
          failures.push_back(message.client_message_id + ": " + std::to_string(outcome.status_code) + " " +
                             outcome.body);
          continue;
        }
        message.status_code = 200;
        message.replies = std::move(outcome.replies);
        answered.push_back(std::move(message));
      }
    });
  }
  for (auto& writer : writers) writer.join();
  for (const auto& failure : failures) FAIL_CHECK(failure);
  REQUIRE(answered.size() == static_cast<std::size_t>(kWriters * kMessagesPerWriter));

  const auto transcript = creator.Transcript(*session);
  REQUIRE(transcript);
  const auto turns = SplitIntoTurns(*transcript);
  REQUIRE(turns.size() == answered.size());
  // The stored order is the order the server served the turns in; each runner line must be followed by exactly
  // the replies its own request received, which only holds when turns did not interleave.
  std::map<std::string, const SentMessage*> by_text;
  for (const auto& message : answered) by_text[message.text] = &message;
  std::set<std::string> seen;
  for (const auto& turn : turns) {
    INFO("runner line: " << turn.user.text);
    const auto found = by_text.find(turn.user.text);
    REQUIRE(found != by_text.end());
    CHECK(seen.insert(turn.user.text).second);
    const auto& expected = found->second->replies;
    REQUIRE(turn.replies.size() == expected.size());
    for (std::size_t index = 0; index < expected.size(); ++index) {
      CHECK(turn.replies[index].id == expected[index].id);
      CHECK(turn.replies[index].text == expected[index].text);
    }
  }
}

}  // namespace coach::process_tests
