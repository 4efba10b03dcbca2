// A conversation survives a graceful restart: same transcript, same pending question, same next answer as a
// control server that never restarted, and a message sent again after the restart is not answered twice.
#include <algorithm>
#include <cctype>

#include <catch2/catch.hpp>

#include "chat_api_client.h"
#include "message_load.h"
#include "server_process.h"

namespace coach::process_tests {
namespace {

/// The answer a runner would tap for the pending question: "no" when offered (it keeps the conversation in the
/// intake, away from escalation), otherwise the last quick reply, otherwise a plain "no".
std::string PickAnswer(const std::vector<ChatReply>& replies) {
  if (replies.empty() || replies.back().quick_replies.empty()) return "no";
  const auto& options = replies.back().quick_replies;
  for (const auto& option : options) {
    std::string label = option.value("label", "");
    std::transform(label.begin(), label.end(), label.begin(), [](unsigned char c) { return std::tolower(c); });
    if (label == "no") return option.value("value", label);
  }
  return options.back().value("value", options.back().value("label", "no"));
}

std::vector<std::pair<std::string, nlohmann::json>> Visible(const std::vector<ChatReply>& replies) {
  std::vector<std::pair<std::string, nlohmann::json>> visible;
  for (const auto& reply : replies) visible.emplace_back(reply.text, reply.quick_replies);
  return visible;
}

std::unique_ptr<ServerProcess> StartServer(const std::filesystem::path& database) {
  auto server = std::make_unique<ServerProcess>(CoachbotBinary(), ServeArguments(database));
  INFO(server->Output());
  REQUIRE(server->WaitForPort());
  REQUIRE(WaitUntilHealthy(*server));
  return server;
}

}  // namespace

TEST_CASE("after SIGTERM and a restart on the same database the conversation continues where it was", "[process]") {
  TemporaryDirectory directory;
  const auto database = directory.Path() / "coachbot.db";
  auto server = StartServer(database);
  auto control = StartServer(directory.Path() / "control.db");

  ChatApiClient client(server->Port());
  ChatApiClient control_client(control->Port());
  const auto session = client.CreateSession();
  const auto control_session = control_client.CreateSession();
  REQUIRE(session);
  REQUIRE(control_session);

  // The same three turns on both servers: a complaint, then the answers to the questions it raises.
  std::vector<ChatReply> last_replies;
  std::vector<std::string> sent;
  std::string text = "my back hurts when I run";
  for (int turn = 0; turn < 3; ++turn) {
    const std::string id = "turn-" + std::to_string(turn);
    const auto outcome = client.Send(*session, text, id);
    const auto control_outcome = control_client.Send(*control_session, text, id);
    INFO("turn " << turn << ": " << outcome.body);
    REQUIRE(outcome.status_code == 200);
    REQUIRE(control_outcome.status_code == 200);
    REQUIRE_FALSE(outcome.replies.empty());
    REQUIRE(Visible(outcome.replies) == Visible(control_outcome.replies));
    sent.push_back(text);
    last_replies = outcome.replies;
    text = PickAnswer(last_replies);
  }
  const auto before = client.Transcript(*session);
  REQUIRE(before);
  REQUIRE(SplitIntoTurns(*before).size() == 3);

  client.Disconnect();
  const auto stopped = server->Terminate();
  INFO(server->Output());
  REQUIRE(stopped);
  CHECK(stopped->exited);
  CHECK(stopped->code == 0);

  server = StartServer(database);
  ChatApiClient restarted(server->Port());

  SECTION("the transcript is intact") {
    const auto after = restarted.Transcript(*session);
    REQUIRE(after);
    CHECK(SameTranscript(*before, *after));
  }

  SECTION("the next reply answers the pending question, exactly as on a server that never stopped") {
    const auto outcome = restarted.Send(*session, text, "turn-3");
    const auto control_outcome = control_client.Send(*control_session, text, "turn-3");
    INFO("after restart: " << outcome.body);
    INFO("control: " << control_outcome.body);
    REQUIRE(outcome.status_code == 200);
    REQUIRE(control_outcome.status_code == 200);
    REQUIRE_FALSE(outcome.replies.empty());
    CHECK(Visible(outcome.replies) == Visible(control_outcome.replies));
    // Not a fresh greeting: the first stored line of the conversation is the greeting.
    CHECK(outcome.replies.front().text != before->front().text);

    const auto after = restarted.Transcript(*session);
    REQUIRE(after);
    REQUIRE(after->size() == before->size() + 1 + outcome.replies.size());
    CHECK(SameTranscript(std::vector<TranscriptLine>(after->begin(), after->begin() + before->size()), *before));
    CHECK((*after)[before->size()].text == text);
  }

  SECTION("a message sent again with its client message id gets the first answer and changes nothing") {
    const auto replay = restarted.Send(*session, sent.back(), "turn-2");
    INFO(replay.body);
    REQUIRE(replay.status_code == 200);
    REQUIRE(replay.replies.size() == last_replies.size());
    for (std::size_t index = 0; index < last_replies.size(); ++index) {
      CHECK(replay.replies[index].id == last_replies[index].id);
      CHECK(replay.replies[index].text == last_replies[index].text);
    }
    const auto after = restarted.Transcript(*session);
    REQUIRE(after);
    CHECK(SameTranscript(*before, *after));
  }
}

}  // namespace coach::process_tests
