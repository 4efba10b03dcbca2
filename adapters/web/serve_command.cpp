// `coachbot serve`: the conversation service on SQLite behind the web chat API, until SIGTERM.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "adapters/cli/commands.h"
#include "adapters/web/cors_policy.h"
#include "adapters/web/structured_log.h"
#include "adapters/web/web_server.h"
#include "bot/conversation_service.h"
#include "bot/sqlite_conversation_store.h"
#include "bot/sqlite_database.h"
#include "dialog/red_flag_detector.h"
#include "knowledge/knowledge_base.h"

namespace coach::adapters::cli {
namespace {

struct ServeOptions {
  int port = 8080;
  std::string host = "0.0.0.0";
  std::string database = "./data/coachbot.db";
  std::string content = "./content";
  std::string allowed_origins;
  int threads = 64;
  double rate_limit = 30;
  double address_rate_limit = 300;
  std::string durability = "normal";
  std::string emergency_number;
  std::string log_level = "info";
  std::string admin_token;
};

/// Refusing to start: one clear line on stderr, exit status 1.
int Refuse(const std::string& reason) {
  std::cerr << "coachbot serve: " << reason << std::endl;
  return 1;
}

int RunServe(const ServeOptions& options) {
  try {
    web::ConfigureJsonLogging(options.log_level);
  } catch (const std::exception& error) {
    return Refuse(error.what());
  }
  web::WebServerOptions server_options;
  try {
    server_options.cors = web::CorsPolicy::FromList(options.allowed_origins);
  } catch (const std::exception& error) {
    return Refuse(std::string("--allowed-origins: ") + error.what());
  }
  const auto durability = bot::ParseDurability(options.durability);
  if (!durability) return Refuse("--durability must be normal or full");
  server_options.threads = options.threads;
  // Streams may take most workers but never all: requests that answer at once always find a thread.
  server_options.max_event_streams = std::max(1, options.threads - std::max(4, options.threads / 4));
  server_options.session_messages_per_minute = options.rate_limit;
  server_options.address_requests_per_minute = options.address_rate_limit;
  server_options.admin_token = options.admin_token;

  // Blocked before any thread starts (the store starts one), so every thread inherits the mask and only the waiter
  // below sees them.
  sigset_t shutdown_signals;
  sigemptyset(&shutdown_signals);
  sigaddset(&shutdown_signals, SIGTERM);
  sigaddset(&shutdown_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &shutdown_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must cost one failed write, not the process

  std::unique_ptr<knowledge::KnowledgeBase> knowledge;
  try {
    knowledge = knowledge::KnowledgeBase::FromDirectory(options.content);
  } catch (const std::exception& error) {
    return Refuse("cannot load content from " + options.content + ": " + error.what());
  }

  std::unique_ptr<bot::SqliteConversationStore> store;
  try {
    const auto parent = std::filesystem::path(options.database).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    bot::SqliteConversationStore::Options store_options;
    store_options.durability = *durability;
    store = std::make_unique<bot::SqliteConversationStore>(options.database, store_options);
  } catch (const std::exception& error) {
    return Refuse("cannot open database " + options.database + ": " + error.what());
  }

  dialog::DialogSettings settings;
  if (!options.emergency_number.empty()) settings.emergency_number = options.emergency_number;
  bot::ConversationService service(
      *store, dialog::DialogDependencies{dialog::RedFlagDetector::Default(), *knowledge, settings});

  bot::SqliteConversationStore& store_ref = *store;
  web::WebServer server(web::WebServerDependencies{service, [&store_ref] { return store_ref.Ping(); },
                                                   [&store_ref] {
                                                     const auto metrics = store_ref.Metrics();
                                                     web::ServiceGauges gauges;
                                                     gauges.conversations_by_state = metrics.conversations_by_state;
                                                     gauges.conversations_by_status = metrics.conversations_by_status;
                                                     gauges.conversations_by_level = metrics.conversations_by_level;
                                                     gauges.open_escalations_by_level =
                                                         metrics.open_escalations_by_level;
                                                     return gauges;
                                                   }},
                        server_options);
  int port = 0;
  try {
    port = server.Bind(options.host, options.port);
  } catch (const std::exception& error) {
    return Refuse(error.what());
  }

  std::atomic<bool> finished{false};
  std::thread signal_waiter([&] {
    int received = 0;
    sigwait(&shutdown_signals, &received);
    if (finished.load()) return;
    web::LogEvent(spdlog::level::info, "shutdown_requested", {{"signal", received == SIGINT ? "SIGINT" : "SIGTERM"}});
    server.Stop();
  });

  std::cout << "coachbot listening on http://" << options.host << ":" << port << " (database " << options.database
            << ", content " << options.content << ")" << std::endl;
  web::LogEvent(spdlog::level::info, "started",
                {{"port", port},
                 {"threads", options.threads},
                 {"durability", options.durability},
                 {"rate_limit_per_minute", options.rate_limit},
                 {"allowed_origins", server_options.cors.origins()},
                 {"admin_routes", !options.admin_token.empty()},
                 // On, SQLite takes a process-wide mutex around each of its allocations (bot/sqlite_database.h).
                 {"sqlite_memory_statistics", bot::SqliteMemoryStatisticsOn()}});

  const bool served = server.Run();
  finished.store(true);
  ::kill(::getpid(), SIGTERM);  // wakes the waiter when serving ended without a signal; ignored otherwise
  signal_waiter.join();

  int status = served ? 0 : 1;
  try {
    store->Checkpoint();
  } catch (const std::exception& error) {
    web::LogEvent(spdlog::level::err, "checkpoint_failed", {{"error", error.what()}});
    status = 1;
  }
  web::LogEvent(spdlog::level::info, "stopped", {{"clean", status == 0}});
  spdlog::default_logger()->flush();
  return status;
}

}  // namespace

void AddServeCommand(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  auto* serve = app.add_subcommand("serve", "Run the web chat API, the widget and the operations endpoints");
  serve->add_option("--port", options->port, "TCP port; 0 picks a free one (printed at start)")
      ->envname("COACHBOT_PORT")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  serve->add_option("--host", options->host, "Address to listen on (0.0.0.0: every interface, as Docker needs)")
      ->envname("COACHBOT_HOST")
      ->capture_default_str();
  serve->add_option("--db", options->database, "SQLite database file (its folder is created)")
      ->envname("COACHBOT_DB")
      ->capture_default_str();
  serve->add_option("--content", options->content, "Coaching content folder")
      ->envname("COACHBOT_CONTENT")
      ->capture_default_str();
  serve
      ->add_option("--allowed-origins", options->allowed_origins,
                   "Comma separated exact origins allowed to call the API and embed the chat (CORS, CSP)")
      ->envname("COACHBOT_ALLOWED_ORIGINS");
  serve->add_option("--threads", options->threads, "Worker threads; each open chat's event stream holds one")
      ->envname("COACHBOT_THREADS")
      ->check(CLI::Range(4, 4096))
      ->capture_default_str();
  serve
      ->add_option("--rate-limit", options->rate_limit,
                   "Messages per minute per session; 0 disables every rate limit (load tests)")
      ->envname("COACHBOT_RATE_LIMIT")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  serve
      ->add_option("--address-rate-limit", options->address_rate_limit,
                   "Requests per minute per client address on the writing routes")
      ->envname("COACHBOT_ADDRESS_RATE_LIMIT")
      ->check(CLI::Range(1.0, 1e7))
      ->capture_default_str();
  serve
      ->add_option("--durability", options->durability,
                   "normal: survives a crash (SIGKILL); full: also a power cut, fsync per commit")
      ->envname("COACHBOT_DURABILITY")
      ->check(CLI::IsMember({"normal", "full"}))
      ->capture_default_str();
  serve
      ->add_option("--emergency-number", options->emergency_number,
                   "Emergency number named in emergency replies (default: 999, 911 or 112)")
      ->envname("COACHBOT_EMERGENCY_NUMBER");
  serve->add_option("--log-level", options->log_level, "trace, debug, info, warn, error, critical or off")
      ->envname("COACHBOT_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  serve
      ->add_option("--admin-token", options->admin_token,
                   "Enables POST /api/v1/admin/... for callers presenting this bearer token")
      ->envname("COACHBOT_ADMIN_TOKEN");
  serve->callback([options] {
    const int status = RunServe(*options);
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

}  // namespace coach::adapters::cli
