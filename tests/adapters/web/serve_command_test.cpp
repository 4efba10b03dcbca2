// `coachbot serve` as an operator runs it: a real process, its stdout line, its exit status.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <httplib.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

/// A fresh folder, removed with everything in it.
class TempFolder {
 public:
  TempFolder() {
    std::string pattern = (fs::temp_directory_path() / "coachbot-serve-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempFolder() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// `coachbot serve <args>` with stdout (the start-up line) and stderr (logs, refusals) on pipes.
class ServeProcess {
 public:
  explicit ServeProcess(std::vector<std::string> args,
                        const std::vector<std::pair<std::string, std::string>>& environment = {}) {
    int out[2];
    int err[2];
    REQUIRE(::pipe(out) == 0);
    REQUIRE(::pipe(err) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::dup2(err[1], STDERR_FILENO);
      ::close(out[0]);
      ::close(err[0]);
      for (const auto& [name, value] : environment) ::setenv(name.c_str(), value.c_str(), 1);
      args.insert(args.begin(), {COACH_BINARY_DIR "/coachbot", "serve"});
      std::vector<char*> argv;
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      std::_Exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    stdout_ = ::fdopen(out[0], "r");
    stderr_fd_ = err[0];
  }
  ~ServeProcess() {
    if (!exited_) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
    std::fclose(stdout_);
    ::close(stderr_fd_);
  }

  /// The first stdout line (empty when the process exited without one).
  std::string FirstLine() {
    char line[1024];
    if (std::fgets(line, sizeof line, stdout_) == nullptr) return {};
    return line;
  }
  void Signal(int signal) { ::kill(pid_, signal); }
  /// Waits for the exit and returns the exit status (128 + signal when killed).
  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string Stderr() {
    std::string text;
    char buffer[4096];
    ssize_t got;
    while ((got = ::read(stderr_fd_, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(got));
    return text;
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  FILE* stdout_ = nullptr;
  int stderr_fd_ = -1;
};

int PortFrom(const std::string& line) {
  static const std::regex started(R"(coachbot listening on http://127\.0\.0\.1:(\d+) \(database .+, content .+\)\n)");
  std::smatch match;
  if (!std::regex_match(line, match, started)) return 0;
  return std::stoi(match[1]);
}

const std::string kContent = COACH_SOURCE_DIR "/content";

}  // namespace

TEST_CASE("serve starts on a free port, answers, and stops cleanly on SIGTERM", "[serve_command]") {
  TempFolder folder;
  const auto database = folder.path() / "nested" / "coachbot.db";
  ServeProcess serve(
      {"--port", "0", "--host", "127.0.0.1", "--db", database.string(), "--content", kContent, "--rate-limit", "0"});
  const auto line = serve.FirstLine();
  const int port = PortFrom(line);
  INFO(line);
  REQUIRE(port > 0);
  CHECK(fs::exists(database));

  httplib::Client client("127.0.0.1", port);
  CHECK(client.Get("/healthz")->status == 200);
  CHECK(client.Get("/readyz")->status == 200);
  const auto session = client.Post("/api/v1/sessions", "{}", "application/json");
  REQUIRE(session);
  CHECK(session->status == 201);

  serve.Signal(SIGTERM);
  CHECK(serve.Wait() == 0);
  const auto logs = serve.Stderr();
  CHECK(logs.find(R"("event":"shutdown_requested")") != std::string::npos);
  CHECK(logs.find(R"("event":"stopped")") != std::string::npos);
  // SQLite's memory statistics (a process-wide mutex around every SQLite allocation) were turned off before the
  // knowledge index first used SQLite.
  CHECK(logs.find(R"("event":"started")") != std::string::npos);
  CHECK(logs.find(R"("sqlite_memory_statistics":false)") != std::string::npos);
  // The WAL was checkpointed into the database file on the way out.
  CHECK((!fs::exists(database.string() + "-wal") || fs::file_size(database.string() + "-wal") == 0));
}

TEST_CASE("serve takes its settings from the environment", "[serve_command]") {
  TempFolder folder;
  const auto database = (folder.path() / "from-env.db").string();
  ServeProcess serve({}, {{"COACHBOT_PORT", "0"},
                          {"COACHBOT_HOST", "127.0.0.1"},
                          {"COACHBOT_DB", database},
                          {"COACHBOT_CONTENT", kContent},
                          {"COACHBOT_ALLOWED_ORIGINS", "https://club.example"},
                          {"COACHBOT_ADMIN_TOKEN", "env-admin"}});
  const auto line = serve.FirstLine();
  INFO(line);
  const int port = PortFrom(line);
  REQUIRE(port > 0);
  CHECK(line.find("(database " + database + ", content " + kContent + ")") != std::string::npos);
  httplib::Client client("127.0.0.1", port);
  const auto chat = client.Get("/chat");
  CHECK(chat->get_header_value("Content-Security-Policy").find("frame-ancestors 'self' https://club.example") !=
        std::string::npos);
  // The admin route exists (401 for a wrong token, not 404).
  CHECK(client
            .Post("/api/v1/admin/conversations/0123456789abcdef0123456789abcdef/coach-messages",
                  {{"Authorization", "Bearer wrong"}}, "{}", "application/json")
            ->status == 401);
  serve.Signal(SIGTERM);
  CHECK(serve.Wait() == 0);
}

TEST_CASE("a session survives a restart of the server", "[serve_command]") {
  TempFolder folder;
  const auto database = (folder.path() / "c.db").string();
  const std::vector<std::string> args = {"--port", "0",         "--host", "127.0.0.1",    "--db",
                                         database, "--content", kContent, "--rate-limit", "0"};
  std::string session_path;
  httplib::Headers auth;
  nlohmann::json before;
  {
    ServeProcess serve(args);
    const int port = PortFrom(serve.FirstLine());
    REQUIRE(port > 0);
    httplib::Client client("127.0.0.1", port);
    const auto created = nlohmann::json::parse(client.Post("/api/v1/sessions", "{}", "application/json")->body);
    session_path = "/api/v1/sessions/" + created["session_id"].get<std::string>();
    auth = {{"Authorization", "Bearer " + created["token"].get<std::string>()}};
    REQUIRE(client
                .Post((session_path + "/messages").c_str(), auth, R"({"text": "pain", "client_message_id": "1"})",
                      "application/json")
                ->status == 200);
    before = nlohmann::json::parse(client.Get((session_path + "/messages").c_str(), auth)->body);
    serve.Signal(SIGTERM);
    REQUIRE(serve.Wait() == 0);
  }
  ServeProcess serve(args);
  const int port = PortFrom(serve.FirstLine());
  REQUIRE(port > 0);
  httplib::Client client("127.0.0.1", port);
  const auto after = client.Get((session_path + "/messages").c_str(), auth);
  REQUIRE(after->status == 200);
  CHECK(nlohmann::json::parse(after->body) == before);
  // The retried message is recognised across the restart; the next one continues the dialog.
  const auto retried = client.Post((session_path + "/messages").c_str(), auth,
                                   R"({"text": "pain", "client_message_id": "1"})", "application/json");
  REQUIRE(retried->status == 200);
  CHECK(nlohmann::json::parse(client.Get((session_path + "/messages").c_str(), auth)->body) == before);
  CHECK(client
            .Post((session_path + "/messages").c_str(), auth, R"({"text": "no", "client_message_id": "2"})",
                  "application/json")
            ->status == 200);
  serve.Signal(SIGTERM);
  CHECK(serve.Wait() == 0);
}

TEST_CASE("serve logs one JSON object per request, without message text", "[serve_command]") {
  TempFolder folder;
  ServeProcess serve(
      {"--port", "0", "--host", "127.0.0.1", "--db", (folder.path() / "c.db").string(), "--content", kContent});
  const int port = PortFrom(serve.FirstLine());
  REQUIRE(port > 0);
  httplib::Client client("127.0.0.1", port);
  const auto created = client.Post("/api/v1/sessions", "{}", "application/json");
  REQUIRE(created->status == 201);
  const auto body = nlohmann::json::parse(created->body);
  const std::string secret_text = "zebra-unicorn-private-words";
  const auto sent =
      client.Post(("/api/v1/sessions/" + body["session_id"].get<std::string>() + "/messages").c_str(),
                  {{"Authorization", "Bearer " + body["token"].get<std::string>()}},
                  nlohmann::json{{"text", secret_text}, {"client_message_id", "1"}}.dump(), "application/json");
  CHECK(sent->status == 200);
  serve.Signal(SIGINT);
  CHECK(serve.Wait() == 0);

  const auto logs = serve.Stderr();
  CHECK(logs.find(secret_text) == std::string::npos);
  CHECK(logs.find(body["token"].get<std::string>()) == std::string::npos);
  int requests = 0;
  std::size_t start = 0;
  while (start < logs.size()) {
    const auto end = logs.find('\n', start);
    const auto line = logs.substr(start, end - start);
    start = end == std::string::npos ? logs.size() : end + 1;
    INFO(line);
    const auto entry = nlohmann::json::parse(line);
    REQUIRE(entry.contains("ts"));
    // UTC, ISO 8601 with milliseconds (the part up to the second is cached per thread: it must still be right).
    CHECK(
        std::regex_match(entry["ts"].get<std::string>(),
                         std::regex(R"(20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]{3}Z)")));
    CHECK(entry.contains("level"));
    if (entry["event"] == "http_request") {
      ++requests;
      CHECK(entry["status"].is_number());
      CHECK(entry["duration_ms"].is_number());
      CHECK(entry["route"].is_string());
    }
  }
  CHECK(requests == 2);
}

TEST_CASE("serve refuses to start on a port in use", "[serve_command]") {
  TempFolder folder;
  ServeProcess first(
      {"--port", "0", "--host", "127.0.0.1", "--db", (folder.path() / "a.db").string(), "--content", kContent});
  const int port = PortFrom(first.FirstLine());
  REQUIRE(port > 0);
  ServeProcess second({"--port", std::to_string(port), "--host", "127.0.0.1", "--db", (folder.path() / "b.db").string(),
                       "--content", kContent});
  CHECK(second.Wait() == 1);
  CHECK(second.FirstLine().empty());
  CHECK(second.Stderr().find("cannot listen on 127.0.0.1:" + std::to_string(port)) != std::string::npos);
}

TEST_CASE("serve refuses to start with broken content or an unusable database", "[serve_command]") {
  TempFolder folder;
  SECTION("missing content") {
    ServeProcess serve({"--port", "0", "--db", (folder.path() / "a.db").string(), "--content",
                        (folder.path() / "no-content").string()});
    CHECK(serve.Wait() == 1);
    CHECK(serve.Stderr().find("cannot load content") != std::string::npos);
  }
  SECTION("a database path that cannot be a file") {
    fs::create_directories(folder.path() / "dir.db");
    ServeProcess serve({"--port", "0", "--db", (folder.path() / "dir.db").string(), "--content", kContent});
    CHECK(serve.Wait() == 1);
    CHECK(serve.Stderr().find("cannot open database") != std::string::npos);
  }
  SECTION("a wildcard origin") {
    ServeProcess serve(
        {"--port", "0", "--db", (folder.path() / "a.db").string(), "--content", kContent, "--allowed-origins", "*"});
    CHECK(serve.Wait() == 1);
    CHECK(serve.Stderr().find("allowed-origins") != std::string::npos);
  }
}
