// The baseline for the load benchmark: the web chat API's two POST routes on cpp-httplib with the same socket and
// thread settings as `coachbot serve`, doing only what any handler must (route, check the bearer header, parse and
// validate the JSON body, serialize a reply) and nothing of the product (no dialog, triage, knowledge or SQLite).
// The ratio of `coachbot serve` to this server is the price of the product's own work per message.
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>
#include <string>
#include <thread>

#include <httplib.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace {

struct EchoSettings {
  std::string host = "127.0.0.1";
  int port = 0;
  // The defaults are coachbot serve's (adapters/web/web_server.h), so that only the handlers' work differs.
  int threads = 64;
  int keep_alive_max_count = 1000;
  int keep_alive_timeout_seconds = 5;
  int backlog = 4096;
};

std::string RandomHex(std::mt19937_64& generator, int bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  for (int index = 0; index < bytes; ++index) {
    const auto value = static_cast<unsigned>(generator() & 0xffu);
    text.push_back(kDigits[value >> 4]);
    text.push_back(kDigits[value & 0xfu]);
  }
  return text;
}

void Reply(httplib::Response& response, int status, const nlohmann::json& body) {
  response.status = status;
  response.set_content(body.dump(), "application/json");
}

void ReplyError(httplib::Response& response, int status, const std::string& code) {
  Reply(response, status, {{"error", {{"code", code}, {"message", code}}}});
}

void AddRoutes(httplib::Server& server, std::atomic<std::int64_t>& next_message_id) {
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    Reply(response, 200, {{"status", "ok"}});
  });
  server.Post("/api/v1/sessions", [](const httplib::Request&, httplib::Response& response) {
    thread_local std::mt19937_64 generator{std::random_device{}()};
    Reply(response, 201, {{"session_id", RandomHex(generator, 16)}, {"token", RandomHex(generator, 32)}});
  });
  server.Post(R"(/api/v1/sessions/([0-9A-Za-z_-]+)/messages)", [&next_message_id](const httplib::Request& request,
                                                                                  httplib::Response& response) {
    const auto authorization = request.get_header_value("Authorization");
    if (authorization.rfind("Bearer ", 0) != 0 || authorization.size() <= 7) {
      ReplyError(response, 401, "unauthorized");
      return;
    }
    const auto body = nlohmann::json::parse(request.body, nullptr, false);
    if (!body.is_object()) {
      ReplyError(response, 400, "malformed_json");
      return;
    }
    const auto text = body.find("text");
    const auto client_message_id = body.find("client_message_id");
    if (text == body.end() || !text->is_string() || client_message_id == body.end() ||
        !client_message_id->is_string()) {
      ReplyError(response, 400, "invalid_field");
      return;
    }
    const auto id = next_message_id.fetch_add(2) + 1;
    Reply(response, 200,
          {{"replies",
            {{{"id", id},
              {"text", "Thanks. Is the pain in your lower back, on one side or both?"},
              {"kind", "normal"},
              {"quick_replies",
               {{{"label", "One side"}, {"value", "one_side"}}, {{"label", "Both sides"}, {"value", "both_sides"}}}}}}},
           {"status", "bot"}});
  });
}

}  // namespace

int main(int argc, char** argv) {
  EchoSettings settings;
  CLI::App app{"Bare cpp-httplib endpoint with the web chat API's message route, for the load benchmark"};
  app.add_option("--host", settings.host, "address to bind");
  app.add_option("--port", settings.port, "port; 0 picks a free one")->check(CLI::Range(0, 65535));
  app.add_option("--threads", settings.threads, "worker threads")->check(CLI::Range(2, 4096));
  app.add_option("--keep-alive-max-count", settings.keep_alive_max_count, "requests per connection");
  app.add_option("--keep-alive-timeout", settings.keep_alive_timeout_seconds, "idle seconds per connection");
  app.add_option("--backlog", settings.backlog, "listen backlog");
  CLI11_PARSE(app, argc, argv);

  // Signals go to one waiting thread, so the stop happens outside a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const int threads = settings.threads;
  std::atomic<std::int64_t> next_message_id{0};
  httplib::Server server;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(static_cast<std::size_t>(settings.keep_alive_max_count));
  server.set_keep_alive_timeout(settings.keep_alive_timeout_seconds);
  server.set_payload_max_length(16 * 1024);
  // Only SO_REUSEADDR: Debian's default adds SO_REUSEPORT, which would let two servers share a port silently.
  // The callback is also the only way to learn the listening socket, needed below to raise the backlog.
  socket_t listening_socket = INVALID_SOCKET;
  server.set_socket_options([&listening_socket](socket_t socket) {
    int yes = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listening_socket = socket;
  });
  AddRoutes(server, next_message_id);

  const int port = settings.port == 0 ? server.bind_to_any_port(settings.host)
                                      : (server.bind_to_port(settings.host, settings.port) ? settings.port : -1);
  if (port <= 0) {
    std::fprintf(stderr, "bare_echo_server: cannot bind %s:%d\n", settings.host.c_str(), settings.port);
    return 1;
  }
  // Debian's library listens with a backlog of 5; listening again on the bound socket raises it.
  ::listen(listening_socket, settings.backlog);

  std::thread stopper([&server, &stop_signals] {
    int received = 0;
    sigwait(&stop_signals, &received);
    server.stop();
  });
  std::printf("coachbot listening on http://%s:%d (bare echo endpoint, %d threads)\n", settings.host.c_str(), port,
              threads);
  std::fflush(stdout);
  const bool clean = server.listen_after_bind();
  // listen_after_bind also returns when the socket fails; wake the stopper so it can be joined either way.
  if (stopper.joinable()) {
    pthread_kill(stopper.native_handle(), SIGTERM);
    stopper.join();
  }
  return clean ? 0 : 1;
}
