// Issue 4, "Bad input and faults": a server killed with SIGKILL in the middle of a load loses no message it
// answered 200, stores none twice, and leaves a database that passes PRAGMA integrity_check.
#include <signal.h>

#include <catch2/catch.hpp>

#include "chat_api_client.h"
#include "database_checks.h"
#include "message_load.h"
#include "server_process.h"

namespace coach::process_tests {

TEST_CASE("SIGKILL mid-load loses no message that was answered 200", "[process]") {
  constexpr int kThreads = 6;
  constexpr int kSessionsPerThread = 3;
  constexpr int kMaxMessagesPerThread = 300;
  // Well below the 1,800 the threads could send: the kill lands while every thread is still busy.
  constexpr long long kAnsweredBeforeKill = 250;

  // normal relies on WAL replay after a crash; full adds an fsync per commit. Both must survive SIGKILL.
  const std::string durability = GENERATE(as<std::string>{}, "normal", "full");
  INFO("--durability " << durability);
  TemporaryDirectory directory;
  const auto database = directory.Path() / "coachbot.db";
  const auto arguments = ServeArguments(database, 0, {"--durability", durability});
  auto server = std::make_unique<ServerProcess>(CoachbotBinary(), arguments);
  INFO(server->Output());
  REQUIRE(server->WaitForPort());

  MessageLoad load(server->Port(), kThreads, kSessionsPerThread, kMaxMessagesPerThread);
  const bool under_load = load.WaitForAnswered(kAnsweredBeforeKill, std::chrono::minutes(3));
  const auto killed = server->Kill();
  load.Join();
  INFO("answered before the kill completed: " << load.AnsweredCount());
  REQUIRE(load.SetupError().empty());
  REQUIRE(under_load);
  CHECK(killed.signal == SIGKILL);
  // Each thread stops at its first unanswered message; all of them were still sending when the kill landed.
  CHECK(load.ThreadsCutOff() == kThreads);

  // Before any restart: the file as the crash left it (WAL included) is sound.
  CHECK(IntegrityCheck(database) == "ok");

  server = std::make_unique<ServerProcess>(CoachbotBinary(), arguments);
  REQUIRE(server->WaitForPort());
  ChatApiClient client(server->Port());

  std::size_t in_flight_stored = 0;
  for (const auto& log : load.Logs()) {
    const auto transcript = client.Transcript(log.session);
    REQUIRE(transcript);
    const auto problems = CompareWithTranscript(log, *transcript, /*unanswered_may_be_stored=*/true);
    for (const auto& problem : problems) FAIL_CHECK(problem);
    if (SplitIntoTurns(*transcript).size() > log.answered.size()) ++in_flight_stored;
  }
  INFO("messages in flight at the kill that were stored: " << in_flight_stored);

  SECTION("a message in flight at the kill, sent again with its id, is stored exactly once") {
    for (const auto& log : load.Logs()) {
      if (!log.unanswered) continue;
      const auto retry = client.Send(log.session, log.unanswered->text, log.unanswered->client_message_id);
      INFO(retry.body);
      REQUIRE(retry.status_code == 200);
      auto completed = log;
      completed.answered.push_back(*log.unanswered);
      completed.answered.back().replies = retry.replies;
      completed.unanswered.reset();
      const auto transcript = client.Transcript(log.session);
      REQUIRE(transcript);
      const auto problems = CompareWithTranscript(completed, *transcript, /*unanswered_may_be_stored=*/false);
      for (const auto& problem : problems) FAIL_CHECK(problem);
    }
  }

  client.Disconnect();
  const auto stopped = server->Terminate();
  REQUIRE(stopped);
  CHECK(stopped->code == 0);
  CHECK(IntegrityCheck(database) == "ok");
}

}  // namespace coach::process_tests
