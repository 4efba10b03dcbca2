#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "adapters/web/cors_policy.h"
#include "adapters/web/http_metrics.h"

namespace coach::bot {
class ConversationService;
}

namespace coach::adapters::web {

/// Tuning and policy of the HTTP server; the defaults are the production ones (docs/api.md).
struct WebServerOptions {
  /// Worker threads. Every open chat holds one for its event stream, so this bounds concurrent chats too.
  int threads = 64;
  /// Event streams allowed at once; beyond it /events answers 503 and the widget falls back to polling, so that
  /// streams can never take every worker.
  int max_event_streams = 48;
  std::size_t max_body_bytes = 16 * 1024;
  /// Messages per minute one session may send (burst: a sixth of it, at least 1); 0 disables all rate limits.
  double session_messages_per_minute = 30;
  /// Requests per minute one client address may send to the writing routes (burst: a sixth of it).
  double address_requests_per_minute = 300;
  CorsPolicy cors;
  /// Enables `POST /api/v1/admin/...` when non-empty.
  std::string admin_token;
  std::size_t keep_alive_max_count = 1000;
  std::chrono::seconds keep_alive_timeout{5};
  /// How long one WaitForMessages call blocks: bounds how late an event stream notices shutdown.
  std::chrono::milliseconds event_wait_slice{1000};
  /// A comment line after this much silence keeps proxies from closing the stream and detects gone clients.
  std::chrono::milliseconds heartbeat_interval{15000};
  /// A stream ends after this long; EventSource reconnects with Last-Event-ID, so nothing is lost, and no
  /// worker is held forever by a client that vanished without a FIN.
  std::chrono::milliseconds max_event_stream_duration{std::chrono::minutes(5)};
  /// Upper bound of `?wait=` on the transcript route (long-poll fallback), in seconds.
  int max_long_poll_seconds = 25;
};

/// What the server needs from the rest of the process.
struct WebServerDependencies {
  bot::ConversationService& service;
  /// /readyz: true when the database answers a trivial query. Must not throw.
  std::function<bool()> database_ready;
  /// /metrics: domain gauges read at scrape time.
  std::function<ServiceGauges()> gauges;
};

/// The web chat API v1, the widget's files and the operations endpoints on cpp-httplib (docs/api.md). Only
/// translates: HTTP in, ConversationService calls, JSON out; errors become `{"error": {...}}` in one place.
/// Bind, then Run on one thread; Stop from any thread (a signal handler thread included).
class WebServer {
 public:
  WebServer(WebServerDependencies dependencies, WebServerOptions options);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  /// Binds the listening socket (port 0 picks a free one) and returns the port. Throws std::runtime_error when
  /// the address cannot be bound (a port in use included: SO_REUSEPORT is deliberately off).
  int Bind(const std::string& host, int port);
  /// Serves until Stop(); returns once in-flight requests have finished. False when serving failed.
  bool Run();
  /// Stops accepting, lets in-flight requests and open event streams finish (streams end within one
  /// event_wait_slice). Idempotent.
  void Stop();
  bool IsRunning() const;
  int port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace coach::adapters::web
