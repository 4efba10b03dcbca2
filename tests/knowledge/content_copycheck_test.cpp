// The coaching content must be in our own words: ../shared/tools/copycheck (run from the repository root) finds
// every line that repeats the source article for 8 words or more and exits 1.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

TEST_CASE("copycheck passes on content/", "[content][copycheck]") {
  const std::filesystem::path root(COACH_SOURCE_DIR);
  const auto tool = root / ".." / "shared" / "tools" / "copycheck";
  if (!std::filesystem::exists(tool)) {
    WARN("copycheck not found at " << tool.string() << ": the content's wording was NOT checked");
    return;
  }
  const std::string command = "cd '" + root.string() + "' && ../shared/tools/copycheck content 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  INFO(output);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
