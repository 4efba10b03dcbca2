// A second `coachbot serve` on a port that is taken must fail loudly. Debian's cpp-httplib sets SO_REUSEPORT by
// default, which would let both processes share the port and split the connections between them (and with them
// the per-conversation order), so this is a real risk, not a formality.
#include <algorithm>
#include <cctype>

#include <catch2/catch.hpp>

#include "chat_api_client.h"
#include "server_process.h"

namespace coach::process_tests {

TEST_CASE("a second serve on the same port fails with a clear message and a non-zero exit", "[process]") {
  TemporaryDirectory directory;
  ServerProcess first(CoachbotBinary(), ServeArguments(directory.Path() / "first.db"));
  INFO("first: " << first.Output());
  REQUIRE(first.WaitForPort());

  ServerProcess second(CoachbotBinary(), ServeArguments(directory.Path() / "second.db", first.Port()));
  const auto status = second.WaitForExit(std::chrono::seconds(30));
  std::string output = second.Output();
  INFO("second: " << output);
  REQUIRE(status);  // it gave up instead of serving
  CHECK(status->exited);
  CHECK(status->code != 0);
  std::transform(output.begin(), output.end(), output.begin(), [](unsigned char c) { return std::tolower(c); });
  CHECK(output.find(std::to_string(first.Port())) != std::string::npos);
  CHECK((output.find("in use") != std::string::npos || output.find("bind") != std::string::npos));

  // The first server still owns the port and answers.
  ChatApiClient client(first.Port());
  CHECK(client.CreateSession());
  client.Disconnect();
  const auto stopped = first.Terminate();
  REQUIRE(stopped);
  CHECK(stopped->code == 0);
}

}  // namespace coach::process_tests
