// Load generator for the web chat API's message endpoint: N threads, each with its own keep-alive connection and
// M sessions, send runner messages round-robin over their sessions (one at a time per connection, so each session's
// messages stay in order) until a message count or a time limit is reached. Prints messages/s and latency
// percentiles of POST /api/v1/sessions/{id}/messages, as a table line and as one JSON line for scripts.
// Session creation happens before the clock starts and is not measured.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include <httplib.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace {

using Clock = std::chrono::steady_clock;

struct LoadSettings {
  std::string label = "server";
  std::string host = "127.0.0.1";
  int port = 0;
  int threads = 8;
  int sessions_per_thread = 4;
  long long max_messages = 20000;  ///< over all threads
  double max_seconds = 10.0;
  int warmup_messages_per_thread = 20;
};

/// What a runner types across a conversation: dialog answers, symptoms for the red-flag detector, and free
/// questions for the knowledge index, so that the full path does all of its work.
const std::vector<std::string>& RunnerMessages() {
  static const std::vector<std::string> messages{
      "my back hurts when I run",
      "no",
      "no",
      "it's my lower back, only on the left side",
      "about two weeks",
      "3/10",
      "it gets a bit worse after long runs",
      "can worn out trainers give you back pain?",
      "I'm a beginner, running 20 km a week",
      "is a lumbar belt a good idea?",
      "no numbness, no tingling, no bladder problems",
      "how long until I can run normally again?",
      "should I stretch before or after running?",
      "I want a plan",
      "what should I do on rest days?",
  };
  return messages;
}

struct Session {
  std::string id;
  std::string token;
  std::size_t next_message = 0;
};

struct ThreadResult {
  std::vector<double> latencies_ms;
  long long errors = 0;   ///< no HTTP answer
  long long non_200 = 0;  ///< an HTTP answer other than 200 (a 429 here means the run is not a throughput figure)
  std::map<int, long long> statuses;
  std::string setup_error;
};

std::unique_ptr<httplib::Client> MakeClient(const LoadSettings& settings) {
  auto client = std::make_unique<httplib::Client>(settings.host, settings.port);
  client->set_keep_alive(true);
  client->set_tcp_nodelay(true);
  client->set_connection_timeout(std::chrono::seconds(10));
  client->set_read_timeout(std::chrono::seconds(60));
  client->set_write_timeout(std::chrono::seconds(60));
  return client;
}

bool CreateSession(httplib::Client& client, Session& session, std::string& error) {
  auto response = client.Post("/api/v1/sessions", "{}", "application/json");
  if (!response || response->status != 201) {
    error = response ? "POST /api/v1/sessions answered " + std::to_string(response->status)
                     : "POST /api/v1/sessions failed: " + httplib::to_string(response.error());
    return false;
  }
  const auto body = nlohmann::json::parse(response->body, nullptr, false);
  if (!body.is_object() || !body.contains("session_id") || !body.contains("token")) {
    error = "POST /api/v1/sessions: unexpected body";
    return false;
  }
  session.id = body["session_id"].get<std::string>();
  session.token = body["token"].get<std::string>();
  return true;
}

/// Sends the session's next message; returns the HTTP status (0 when there was no answer).
int SendNext(httplib::Client& client, Session& session, const std::string& client_message_id) {
  const auto& messages = RunnerMessages();
  const nlohmann::json body{{"text", messages[session.next_message % messages.size()]},
                            {"client_message_id", client_message_id}};
  ++session.next_message;
  const httplib::Headers headers{{"Authorization", "Bearer " + session.token}};
  auto response =
      client.Post(("/api/v1/sessions/" + session.id + "/messages").c_str(), headers, body.dump(), "application/json");
  return response ? response->status : 0;
}

double Percentile(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0.0;
  const auto rank = static_cast<std::size_t>(fraction * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  LoadSettings settings;
  CLI::App app{"Load generator for POST /api/v1/sessions/{id}/messages"};
  app.add_option("--label", settings.label, "name printed with the figures");
  app.add_option("--host", settings.host, "server address");
  app.add_option("--port", settings.port, "server port")->required()->check(CLI::Range(1, 65535));
  app.add_option("--threads", settings.threads, "client threads, one keep-alive connection each")
      ->check(CLI::Range(1, 1024));
  app.add_option("--sessions", settings.sessions_per_thread, "sessions per thread")->check(CLI::Range(1, 100000));
  app.add_option("--messages", settings.max_messages, "stop after this many measured messages (all threads)")
      ->check(CLI::Range(1LL, 100000000LL));
  app.add_option("--seconds", settings.max_seconds, "stop after this many seconds")->check(CLI::Range(0.1, 3600.0));
  app.add_option("--warmup", settings.warmup_messages_per_thread, "unmeasured messages per thread first")
      ->check(CLI::Range(0, 100000));
  CLI11_PARSE(app, argc, argv);

  std::mutex mutex;
  std::condition_variable ready_changed;
  int threads_ready = 0;
  bool go = false;
  std::atomic<long long> messages_started{0};
  std::atomic<bool> time_is_up{false};
  Clock::time_point start;
  std::vector<ThreadResult> results(static_cast<std::size_t>(settings.threads));
  std::vector<std::thread> workers;

  for (int thread_index = 0; thread_index < settings.threads; ++thread_index) {
    workers.emplace_back([&, thread_index] {
      auto& result = results[static_cast<std::size_t>(thread_index)];
      auto client = MakeClient(settings);
      std::vector<Session> sessions(static_cast<std::size_t>(settings.sessions_per_thread));
      bool ok = true;
      for (auto& session : sessions) {
        if (!CreateSession(*client, session, result.setup_error)) {
          ok = false;
          break;
        }
      }
      long long sequence = 0;
      const auto next_id = [&] { return "t" + std::to_string(thread_index) + "-m" + std::to_string(sequence++); };
      for (int index = 0; ok && index < settings.warmup_messages_per_thread; ++index) {
        SendNext(*client, sessions[static_cast<std::size_t>(index) % sessions.size()], next_id());
      }
      {
        std::unique_lock<std::mutex> lock(mutex);
        ++threads_ready;
        ready_changed.notify_all();
        ready_changed.wait(lock, [&] { return go; });
      }
      if (!ok) return;
      result.latencies_ms.reserve(static_cast<std::size_t>(settings.max_messages / settings.threads + 16));
      std::size_t session_index = 0;
      while (!time_is_up.load(std::memory_order_relaxed) &&
             messages_started.fetch_add(1, std::memory_order_relaxed) < settings.max_messages) {
        auto& session = sessions[session_index++ % sessions.size()];
        const auto sent = Clock::now();
        const int status = SendNext(*client, session, next_id());
        const auto answered = Clock::now();
        if (status == 0) {
          ++result.errors;
          // A refused or cut connection answers in microseconds; re-establish it instead of spinning.
          client = MakeClient(settings);
        } else if (status != 200) {
          ++result.non_200;
        } else {
          result.latencies_ms.push_back(std::chrono::duration<double, std::milli>(answered - sent).count());
        }
        if (status != 0) ++result.statuses[status];
        if (answered - start > std::chrono::duration<double>(settings.max_seconds)) time_is_up = true;
      }
    });
  }
  {
    std::unique_lock<std::mutex> lock(mutex);
    ready_changed.wait(lock, [&] { return threads_ready == settings.threads; });
    start = Clock::now();
    go = true;
    ready_changed.notify_all();
  }
  for (auto& worker : workers) worker.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<double> latencies;
  long long errors = 0;
  long long non_200 = 0;
  std::map<int, long long> statuses;
  for (const auto& result : results) {
    if (!result.setup_error.empty()) {
      std::fprintf(stderr, "load_generator: %s\n", result.setup_error.c_str());
      return 2;
    }
    latencies.insert(latencies.end(), result.latencies_ms.begin(), result.latencies_ms.end());
    errors += result.errors;
    non_200 += result.non_200;
    for (const auto& [status, count] : result.statuses) statuses[status] += count;
  }
  std::sort(latencies.begin(), latencies.end());
  const auto answered = static_cast<long long>(latencies.size());
  const double rate = seconds > 0 ? static_cast<double>(answered) / seconds : 0.0;
  nlohmann::json status_counts = nlohmann::json::object();
  for (const auto& [status, count] : statuses) status_counts[std::to_string(status)] = count;
  // Everything the server was sent, set-up included: the run script divides the server's CPU time by it.
  const long long requests_total =
      answered + errors + non_200 +
      static_cast<long long>(settings.threads) * (settings.sessions_per_thread + settings.warmup_messages_per_thread);
  // The generator shares the machine with the server: its own CPU per message is part of what the run measures
  // (a slower answer costs the client more too: it sleeps and wakes for it).
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double client_cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                                    static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  const nlohmann::json figures{
      {"label", settings.label},
      {"client_cpu_us_per_request",
       requests_total > 0 ? client_cpu_seconds * 1e6 / static_cast<double>(requests_total) : 0.0},
      {"requests_total", requests_total},
      {"threads", settings.threads},
      {"sessions", settings.threads * settings.sessions_per_thread},
      {"messages_ok", answered},
      {"errors", errors},
      {"non_200", non_200},
      {"statuses", status_counts},
      {"seconds", seconds},
      {"messages_per_second", rate},
      {"p50_ms", Percentile(latencies, 0.50)},
      {"p90_ms", Percentile(latencies, 0.90)},
      {"p99_ms", Percentile(latencies, 0.99)},
      {"max_ms", latencies.empty() ? 0.0 : latencies.back()}};
  std::printf("%-12s %8lld ok %5lld err %5lld non-200 %7.2f s %9.0f msg/s  p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms\n",
              settings.label.c_str(), answered, errors, non_200, seconds, rate, Percentile(latencies, 0.50),
              Percentile(latencies, 0.90), Percentile(latencies, 0.99));
  std::printf("%s\n", figures.dump().c_str());
  return errors == 0 && non_200 == 0 ? 0 : 1;
}
