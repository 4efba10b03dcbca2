// The harness itself, against tiny shell children, so that a failing process test points at the server and not
// at the way it was started.
#include "server_process.h"

#include <signal.h>

#include <catch2/catch.hpp>

namespace coach::process_tests {
namespace {

ServerProcess Shell(const std::string& script) {
  return ServerProcess("/bin/sh", {"-c", script});
}

}  // namespace

TEST_CASE("the port comes from the listening line and the exit code is reported", "[process]") {
  auto child = Shell("echo 'starting' >&2; echo 'coachbot listening on http://127.0.0.1:4321 (test)'; exit 3");
  const auto port = child.WaitForPort();
  REQUIRE(port);
  CHECK(*port == 4321);
  CHECK(child.Port() == 4321);
  const auto status = child.WaitForExit();
  REQUIRE(status);
  CHECK(status->exited);
  CHECK(status->code == 3);
  CHECK(child.Output().find("starting") != std::string::npos);
}

TEST_CASE("an IPv6 listening line gives its port", "[process]") {
  auto child = Shell("echo 'coachbot listening on http://[::1]:5555 (test)'");
  const auto port = child.WaitForPort();
  REQUIRE(port);
  CHECK(*port == 5555);
}

TEST_CASE("a child that exits before listening gives no port, and its message is kept", "[process]") {
  auto child = Shell("echo 'cannot bind 127.0.0.1:80: address already in use' >&2; exit 1");
  CHECK_FALSE(child.WaitForPort());
  const auto status = child.WaitForExit();
  REQUIRE(status);
  CHECK(status->code == 1);
  CHECK(child.Output().find("address already in use") != std::string::npos);
}

TEST_CASE("a chatty child never blocks on a full pipe", "[process]") {
  // 1 MB on stderr before the listening line: far beyond a pipe's 64 KB buffer.
  auto child = Shell("head -c 1000000 /dev/zero | tr '\\0' x >&2; echo 'listening on http://127.0.0.1:6000 (x)'");
  const auto port = child.WaitForPort();
  REQUIRE(port);
  CHECK(*port == 6000);
  REQUIRE(child.WaitForExit());
  CHECK(child.Output().size() >= 1000000);
}

TEST_CASE("SIGTERM and SIGKILL reach the child", "[process]") {
  SECTION("SIGTERM") {
    auto child = Shell("echo 'listening on http://127.0.0.1:7000 (x)'; exec tail -f /dev/null");
    REQUIRE(child.WaitForPort());
    const auto status = child.Terminate();
    REQUIRE(status);
    CHECK_FALSE(status->exited);
    CHECK(status->signal == SIGTERM);
  }
  SECTION("SIGKILL") {
    auto child = Shell("trap '' TERM; echo 'listening on http://127.0.0.1:7000 (x)'; exec tail -f /dev/null");
    REQUIRE(child.WaitForPort());
    const auto status = child.Kill();
    CHECK(status.signal == SIGKILL);
  }
}

TEST_CASE("a missing binary is reported", "[process]") {
  // posix_spawn reports exec failure as exit code 127 from the child, or as an error from the call.
  bool reported = false;
  try {
    ServerProcess child("/nonexistent/coachbot", {});
    const auto status = child.WaitForExit();
    reported = status && status->exited && status->code == 127;
  } catch (const std::runtime_error&) {
    reported = true;
  }
  CHECK(reported);
}

}  // namespace coach::process_tests
