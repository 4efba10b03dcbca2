// Issue 4, "Operations": SIGTERM stops accepting, lets the requests in flight finish, checkpoints the WAL and
// exits 0. A request is provably in flight when the signal is sent: it announces its body with
// "Expect: 100-continue", and the server's "100 Continue" proves a worker has read its headers and waits for the
// body, which is sent only after the SIGTERM.
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "chat_api_client.h"
#include "database_checks.h"
#include "message_load.h"
#include "server_process.h"

namespace coach::process_tests {
namespace {

/// A bare TCP connection to 127.0.0.1, for writing a request in two halves.
class RawConnection {
 public:
  explicit RawConnection(int port) : socket_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = socket_ >= 0 && ::connect(socket_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~RawConnection() {
    if (socket_ >= 0) ::close(socket_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool Connected() const { return connected_; }

  bool Write(const std::string& data) {
    std::size_t written = 0;
    while (written < data.size()) {
      const ssize_t count = ::send(socket_, data.data() + written, data.size() - written, MSG_NOSIGNAL);
      if (count <= 0) return false;
      written += static_cast<std::size_t>(count);
    }
    return true;
  }

  /// Reads until `marker` has arrived (or, with an empty marker, until the peer closes); false on timeout.
  bool ReadUntil(const std::string& marker, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buffer[4096];
    while (marker.empty() || received_.find(marker) == std::string::npos) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd entry{socket_, POLLIN, 0};
      if (::poll(&entry, 1, static_cast<int>(left.count())) <= 0) continue;
      const ssize_t count = ::recv(socket_, buffer, sizeof(buffer), 0);
      if (count <= 0) return marker.empty();
      received_.append(buffer, static_cast<std::size_t>(count));
    }
    return true;
  }

  const std::string& Received() const { return received_; }
  void ClearReceived() { received_.clear(); }

 private:
  int socket_;
  bool connected_ = false;
  std::string received_;
};

}  // namespace

TEST_CASE("SIGTERM lets requests in flight finish, checkpoints the WAL and exits 0", "[process]") {
  constexpr int kThreads = 4;
  constexpr int kSessionsPerThread = 2;
  // A bound for the loop only: the threads are cut off by the shutdown long before.
  constexpr int kMaxMessagesPerThread = 100000;

  TemporaryDirectory directory;
  const auto database = directory.Path() / "coachbot.db";
  auto server = std::make_unique<ServerProcess>(CoachbotBinary(), ServeArguments(database));
  INFO(server->Output());
  REQUIRE(server->WaitForPort());
  ChatApiClient client(server->Port());
  const auto session = client.CreateSession();
  REQUIRE(session);

  MessageLoad load(server->Port(), kThreads, kSessionsPerThread, kMaxMessagesPerThread);
  REQUIRE(load.WaitForAnswered(100, std::chrono::minutes(2)));

  const std::string text = "my back hurts when I run";
  const std::string body = nlohmann::json{{"text", text}, {"client_message_id", "in-flight"}}.dump();
  RawConnection connection(server->Port());
  REQUIRE(connection.Connected());
  REQUIRE(connection.Write("POST /api/v1/sessions/" + session->id + "/messages HTTP/1.1\r\n" +
                           "Host: 127.0.0.1:" + std::to_string(server->Port()) + "\r\n" + "Authorization: Bearer " +
                           session->token + "\r\n" + "Content-Type: application/json\r\n" +
                           "Content-Length: " + std::to_string(body.size()) + "\r\n" + "Expect: 100-continue\r\n" +
                           "Connection: close\r\n\r\n"));
  REQUIRE(connection.ReadUntil("\r\n\r\n", std::chrono::seconds(30)));
  REQUIRE(connection.Received().rfind("HTTP/1.1 100", 0) == 0);
  connection.ClearReceived();

  server->Signal(SIGTERM);
  REQUIRE(connection.Write(body));
  REQUIRE(connection.ReadUntil("", std::chrono::seconds(60)));
  const auto& response = connection.Received();
  INFO("response to the request in flight: " << response);
  REQUIRE(response.rfind("HTTP/1.1 200", 0) == 0);
  const auto header_end = response.find("\r\n\r\n");
  REQUIRE(header_end != std::string::npos);
  const auto reply_body = nlohmann::json::parse(response.substr(header_end + 4), nullptr, false);
  REQUIRE(reply_body.is_object());
  REQUIRE(reply_body.contains("replies"));
  REQUIRE_FALSE(reply_body["replies"].empty());

  const auto stopped = server->WaitForExit();
  REQUIRE(stopped);
  CHECK(stopped->exited);
  CHECK(stopped->code == 0);
  load.Join();
  REQUIRE(load.SetupError().empty());
  CHECK(load.ThreadsCutOff() == kThreads);

  // The checkpoint on the way out leaves no log behind to replay (SQLite removes or truncates it).
  const auto wal_size = WalSize(database);
  CHECK((!wal_size || *wal_size == 0));
  CHECK(IntegrityCheck(database) == "ok");

  server = std::make_unique<ServerProcess>(CoachbotBinary(), ServeArguments(database));
  REQUIRE(server->WaitForPort());
  ChatApiClient restarted(server->Port());
  // A graceful stop answers every request it stored: nothing is stored that the client did not see answered.
  for (const auto& log : load.Logs()) {
    const auto transcript = restarted.Transcript(log.session);
    REQUIRE(transcript);
    for (const auto& problem : CompareWithTranscript(log, *transcript, /*unanswered_may_be_stored=*/false)) {
      FAIL_CHECK(problem);
    }
  }
  const auto transcript = restarted.Transcript(*session);
  REQUIRE(transcript);
  const auto turns = SplitIntoTurns(*transcript);
  REQUIRE(turns.size() == 1);
  CHECK(turns[0].user.text == text);
  REQUIRE(turns[0].replies.size() == reply_body["replies"].size());
  for (std::size_t index = 0; index < turns[0].replies.size(); ++index) {
    CHECK(turns[0].replies[index].id == reply_body["replies"][index].value("id", std::int64_t{0}));
  }
  restarted.Disconnect();
  const auto final_stop = server->Terminate();
  REQUIRE(final_stop);
  CHECK(final_stop->code == 0);
}

}  // namespace coach::process_tests
