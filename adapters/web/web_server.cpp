#include "adapters/web/web_server.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <functional>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "adapters/web/http_errors.h"
#include "adapters/web/keep_alive_shutdown.h"
#include "adapters/web/rate_limiter.h"
#include "adapters/web/request_parsing.h"
#include "adapters/web/session_tokens.h"
#include "adapters/web/static_assets.h"
#include "adapters/web/structured_log.h"
#include "bot/conversation_service.h"
#include "bot/json_writer.h"

namespace coach::adapters::web {
namespace {

using Clock = std::chrono::steady_clock;
using Request = httplib::Request;
using Response = httplib::Response;
using Handler = std::function<void(const Request&, Response&)>;

constexpr const char* kChannel = "web";
constexpr int kTranscriptPageSize = 500;

/// httplib keeps the listening socket to itself; raising the backlog needs it.
class HttpServer final : public httplib::Server {
 public:
  socket_t ListeningSocket() const { return svr_sock_; }
};

/// What the logger and the metrics need to know about the request this thread is handling. httplib runs a
/// request's routing, handler and logger on one worker thread, and the Request is const, so it lives here.
struct RequestContext {
  bool active = false;
  Clock::time_point start;
  const char* route = "unmatched";
  std::int64_t conversation_id = 0;
};
thread_local RequestContext current_request;

/// The connection this worker thread holds in Impl::reading: from a request's headers until its response is written
/// (httplib's logger runs then). A response that could not be written skips the logger; the thread's next request
/// releases the stale hold first.
struct HeldConnection {
  bool held = false;
  bool by_expect_continue = false;  ///< held before "100 Continue", for the request pre-routing sees next
  std::uint64_t key = 0;
};
thread_local HeldConnection held_connection;

/// A connection by its peer. Two peers sharing a key (a hash collision) would only keep an idle connection open
/// during a shutdown, until its keep-alive timeout.
std::uint64_t ConnectionKey(const std::string& address, int port) {
  return (std::hash<std::string>{}(address) << 16) ^ static_cast<std::uint64_t>(port);
}

std::string IsoTime(std::int64_t milliseconds) {
  const std::time_t seconds = milliseconds / 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(milliseconds % 1000));
  return buffer;
}

std::string AuthorName(bot::Author author) {
  switch (author) {
    case bot::Author::user:
      return "user";
    case bot::Author::bot:
      return "bot";
    case bot::Author::coach:
      return "coach";
    case bot::Author::system:
      return "system";
  }
  return "system";
}

const nlohmann::json& QuickReplies(const nlohmann::json& stored) {
  static const nlohmann::json kNone = nlohmann::json::array();
  return stored.is_array() ? stored : kNone;
}

nlohmann::json TranscriptLineJson(const bot::MessageRecord& message) {
  return {{"id", message.id},     {"author", AuthorName(message.author)},
          {"text", message.text}, {"quick_replies", QuickReplies(message.quick_replies)},
          {"kind", message.kind}, {"created_at", IsoTime(message.created_at_ms)}};
}

/// The answer to a runner message, written directly (it is the hottest body): {"replies": [ReplyJson...], "status"}.
std::string RepliesBody(const bot::InboundResult& result) {
  bot::JsonWriter body;
  body.BeginObject().Key("replies").BeginArray();
  for (const auto& reply : result.replies) {
    body.BeginObject().Key("id").Int(reply.id).Key("kind").String(reply.kind);
    body.Key("quick_replies");
    // A turn's own lines carry their quick replies already serialized (for the store); replayed ones do not.
    if (reply.quick_replies_text) {
      body.Raw(*reply.quick_replies_text);
    } else {
      body.Value(QuickReplies(reply.quick_replies));
    }
    body.Key("text").String(reply.text).EndObject();
  }
  body.EndArray().Key("status").String(result.status).EndObject();
  return body.Take();
}

std::string Dump(const nlohmann::json& body) {
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void WriteJson(Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(Dump(body), "application/json");
}

void WriteError(Response& res, const ErrorResponse& error) {
  res.status = error.status;
  res.set_content(ErrorBody(error.code, error.message), "application/json");
}

void Reject(Response& res, int status, std::string code, std::string message) {
  WriteError(res, ErrorResponse{status, std::move(code), std::move(message)});
}

void RefuseWhileStopping(Response& res) {
  res.set_header("Connection", "close");
  res.set_header("Retry-After", "1");
  Reject(res, 503, "shutting_down", "the server is shutting down; send the message again in a moment");
}

std::string EntityTag(std::string_view bytes) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "\"%016zx\"", std::hash<std::string_view>{}(bytes));
  return buffer;
}

/// A route's methods, so that a wrong method gets 405 with `Allow` rather than httplib's 404.
struct RouteMethods {
  std::regex pattern;
  std::string allow;
};

}  // namespace

struct WebServer::Impl {
  Impl(WebServerDependencies dependencies_in, WebServerOptions options_in)
      : dependencies(std::move(dependencies_in)),
        options(std::move(options_in)),
        session_limiter(options.session_messages_per_minute, options.session_messages_per_minute / 6),
        address_limiter(options.session_messages_per_minute > 0 ? options.address_requests_per_minute : 0,
                        options.address_requests_per_minute / 6),
        chat_page_policy(options.cors.ChatPageContentSecurityPolicy()) {
    Configure();
    RegisterRoutes();
  }

  struct SessionAccess {
    std::string session_id;
    bot::ConversationIdentity conversation;
  };

  /// One open `/events` response: where it stands and when it must end. Counted in open_streams while alive
  /// (the provider lambda owns it, so it dies with the response).
  struct EventStream {
    EventStream(Impl& impl_in, std::string session_id_in, std::int64_t conversation_id_in, std::int64_t after)
        : impl(impl_in),
          session_id(std::move(session_id_in)),
          conversation_id(conversation_id_in),
          last_id(after),
          deadline(Clock::now() + impl_in.options.max_event_stream_duration),
          last_write(Clock::now()) {}
    ~EventStream() { impl.open_streams.fetch_sub(1); }
    EventStream(const EventStream&) = delete;
    EventStream& operator=(const EventStream&) = delete;

    bool Pump(httplib::DataSink& sink);

    Impl& impl;
    std::string session_id;
    std::int64_t conversation_id;
    std::int64_t last_id;
    Clock::time_point deadline;
    Clock::time_point last_write;
    bool opened = false;
  };

  void Configure();
  void RegisterRoutes();
  void RegisterApiRoutes();
  void RegisterStaticRoutes();
  void RegisterOperationsRoutes();
  /// Wraps a handler: names the route for logs and metrics, and sends every exception to the one mapping.
  Handler Route(const char* name, Handler handler);
  void AddMethods(const std::string& pattern, std::string allow);
  void ApplyCors(const Request& req, Response& res) const;
  void OnResponseReady(const Request& req, const Response& res);
  std::optional<SessionAccess> Authorize(const Request& req, Response& res, bool allow_query_token);
  bool Admit(RateLimiter& limiter, const std::string& key, const char* scope, Response& res);
  void ServeAsset(const Request& req, Response& res, std::string_view name, const char* cache_control);

  void CreateSession(const Request& req, Response& res);
  void PostMessage(const Request& req, Response& res);
  void GetTranscript(const Request& req, Response& res);
  void StreamEvents(const Request& req, Response& res);
  void ExportSession(const Request& req, Response& res);
  void DeleteSession(const Request& req, Response& res);
  void PostCoachMessage(const Request& req, Response& res);
  void Preflight(const Request& req, Response& res);

  WebServerDependencies dependencies;
  WebServerOptions options;
  HttpServer server;
  HttpMetrics metrics;
  RateLimiter session_limiter;
  RateLimiter address_limiter;
  std::string chat_page_policy;
  std::vector<RouteMethods> route_methods;
  std::atomic<int> open_streams{0};
  std::atomic<bool> stopping{false};

  // The connections with a request being read or answered (headers in, the body perhaps still on its way, the
  // response not yet written), by ConnectionKey: Stop ends the reading side of every other connection of the
  // server. An ended connection can no longer be answered (before writing, httplib peeks at the read side to see
  // whether the client is still there), so a request that reaches its headers after Stop is refused before any
  // work, and nothing is stored for it.
  std::mutex reading_mutex;
  std::unordered_map<std::uint64_t, int> reading;
  /// False when the server is stopping: refuse the request.
  bool HoldConnection(const Request& req);
  void ReleaseConnection();
};

bool WebServer::Impl::HoldConnection(const Request& req) {
  const auto key = ConnectionKey(req.remote_addr, req.remote_port);
  std::lock_guard<std::mutex> lock(reading_mutex);
  if (stopping.load()) return false;
  ++reading[key];
  held_connection.held = true;
  held_connection.key = key;
  return true;
}

void WebServer::Impl::ReleaseConnection() {
  held_connection.by_expect_continue = false;
  if (!held_connection.held) return;
  held_connection.held = false;
  std::lock_guard<std::mutex> lock(reading_mutex);
  const auto found = reading.find(held_connection.key);
  if (found != reading.end() && --found->second <= 0) reading.erase(found);
}

void WebServer::Impl::Configure() {
  server.set_tcp_nodelay(true);  // Debian's build leaves it off: every answer would wait for a delayed ACK
  // Replaces httplib's default, which also sets SO_REUSEPORT: with it a second server on the same port would
  // silently share the connections instead of failing to start.
  server.set_socket_options([](socket_t socket) {
    int on = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  });
  const auto threads = static_cast<std::size_t>(std::max(2, options.threads));
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_keep_alive_max_count(options.keep_alive_max_count);
  server.set_keep_alive_timeout(options.keep_alive_timeout.count());
  server.set_payload_max_length(options.max_body_bytes);

  // Both run once the headers are in and before the body is read (httplib answers "100 Continue" first).
  server.set_expect_100_continue_handler([this](const Request& req, Response& res) {
    ReleaseConnection();
    if (!HoldConnection(req)) {
      RefuseWhileStopping(res);
      return res.status;
    }
    held_connection.by_expect_continue = true;
    return 100;
  });
  server.set_pre_routing_handler([this](const Request& req, Response& res) {
    current_request = RequestContext{true, Clock::now(), "unmatched", 0};
    if (held_connection.by_expect_continue) {
      held_connection.by_expect_continue = false;  // held for this very request
    } else {
      ReleaseConnection();
      if (!HoldConnection(req)) {
        RefuseWhileStopping(res);
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    ApplyCors(req, res);
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // httplib calls this for every status >= 400 before writing, including the ones our handlers set: only a
  // response without a body (httplib's own 400/404/413, or a handler that set just a status) is filled in here.
  server.set_error_handler(httplib::Server::HandlerWithResponse([this](const Request& req, Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (res.status == 404) {
      for (const auto& route : route_methods) {
        if (std::regex_match(req.path, route.pattern)) {
          res.status = 405;
          res.set_header("Allow", route.allow);
          break;
        }
      }
    }
    ApplyCors(req, res);
    WriteError(res, ErrorForStatus(res.status));
    return httplib::Server::HandlerResponse::Handled;
  }));
  server.set_exception_handler(
      [](const Request&, Response& res, std::exception_ptr failure) { WriteError(res, MapException(failure)); });
  // Runs once per response, before httplib writes it (so a client that saw the answer also sees it counted).
  server.set_post_routing_handler([this](const Request& req, Response& res) { OnResponseReady(req, res); });
  // Runs once the response is written.
  server.set_logger([this](const Request&, const Response&) { ReleaseConnection(); });
}

Handler WebServer::Impl::Route(const char* name, Handler handler) {
  return [name, handler = std::move(handler)](const Request& req, Response& res) {
    current_request.route = name;
    try {
      handler(req, res);
    } catch (...) {
      const auto failure = std::current_exception();
      const auto error = MapException(failure);
      nlohmann::json fields = {{"route", name}, {"status", error.status}, {"code", error.code}};
      if (auto detail = LogDetail(failure); !detail.empty()) fields["detail"] = std::move(detail);
      LogEvent(error.status >= 500 && error.status != 503 ? spdlog::level::err : spdlog::level::warn, "request_failed",
               fields);
      WriteError(res, error);
    }
  };
}

void WebServer::Impl::AddMethods(const std::string& pattern, std::string allow) {
  route_methods.push_back({std::regex(pattern), std::move(allow)});
}

void WebServer::Impl::ApplyCors(const Request& req, Response& res) const {
  if (req.path.rfind("/api/", 0) != 0 || res.has_header("Vary")) return;
  res.set_header("Vary", "Origin");
  const auto origin = req.get_header_value("Origin");
  if (!origin.empty() && options.cors.Allows(origin) && !res.has_header("Access-Control-Allow-Origin")) {
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Access-Control-Expose-Headers", "Retry-After");
  }
}

void WebServer::Impl::OnResponseReady(const Request& req, const Response& res) {
  const auto context = current_request;
  current_request = RequestContext{};
  const auto duration = context.active ? Clock::now() - context.start : Clock::duration::zero();
  metrics.Record(context.route, req.method, res.status, duration);
  LogHttpRequest(res.status >= 500 ? spdlog::level::warn : spdlog::level::info, context.route, req.method, res.status,
                 std::chrono::duration<double, std::milli>(duration).count(), context.conversation_id);
}

std::optional<WebServer::Impl::SessionAccess> WebServer::Impl::Authorize(const Request& req, Response& res,
                                                                         bool allow_query_token) {
  const std::string session_id = req.matches[1];
  auto token = BearerToken(req.get_header_value("Authorization"));
  if (token.empty() && allow_query_token) token = req.get_param_value("token");
  if (token.empty()) {
    res.set_header("WWW-Authenticate", "Bearer");
    Reject(res, 401, "missing_token", "send the session token as Authorization: Bearer <token>");
    return std::nullopt;
  }
  auto conversation = SessionTokens::LooksLikeSessionId(session_id)
                          ? dependencies.service.FindIdentity(kChannel, session_id)
                          : std::nullopt;
  if (!conversation) {
    Reject(res, 404, "session_not_found", "no such session (it may have been deleted)");
    return std::nullopt;
  }
  // The identity already carries the stored hash: comparing here saves VerifyAccessToken's second lookup.
  if (conversation->access_token_hash.empty() ||
      !SessionTokens::SecretsEqual(conversation->access_token_hash, SessionTokens::TokenHash(token))) {
    res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    Reject(res, 401, "invalid_token", "the token does not belong to this session");
    return std::nullopt;
  }
  current_request.conversation_id = conversation->id;
  return SessionAccess{session_id, std::move(*conversation)};
}

bool WebServer::Impl::Admit(RateLimiter& limiter, const std::string& key, const char* scope, Response& res) {
  const auto decision = limiter.Acquire(key);
  if (decision.allowed) return true;
  const auto seconds = std::to_string(decision.retry_after.count());
  res.set_header("Retry-After", seconds);
  Reject(res, 429, "rate_limited",
         std::string("too many requests from this ") + scope + "; retry in " + seconds + " s");
  return false;
}

void WebServer::Impl::RegisterRoutes() {
  RegisterOperationsRoutes();
  RegisterApiRoutes();
  RegisterStaticRoutes();
}

void WebServer::Impl::RegisterOperationsRoutes() {
  server.Get("/healthz", Route("/healthz", [](const Request&, Response& res) {
               WriteJson(res, 200, {{"status", "ok"}});
             }));
  server.Get("/readyz", Route("/readyz", [this](const Request&, Response& res) {
               if (dependencies.database_ready && dependencies.database_ready()) {
                 WriteJson(res, 200, {{"status", "ready"}});
               } else {
                 Reject(res, 503, "database_unavailable", "the database does not answer");
               }
             }));
  server.Get("/metrics", Route("/metrics", [this](const Request&, Response& res) {
               const auto gauges = dependencies.gauges ? dependencies.gauges() : ServiceGauges{};
               res.set_content(metrics.Render(gauges), "text/plain; version=0.0.4; charset=utf-8");
             }));
  AddMethods("/healthz|/readyz|/metrics", "GET");
}

void WebServer::Impl::RegisterApiRoutes() {
  using namespace std::placeholders;
  const std::string session = "/api/v1/sessions/([^/]+)";
  // httplib tries a method's routes in this order, each a std::regex match (about 4,000 instructions): the
  // message route, nearly every POST, comes first.
  server.Post(session + "/messages",
              Route("/api/v1/sessions/:id/messages", std::bind(&Impl::PostMessage, this, _1, _2)));
  server.Post("/api/v1/sessions", Route("/api/v1/sessions", std::bind(&Impl::CreateSession, this, _1, _2)));
  server.Get(session + "/messages",
             Route("/api/v1/sessions/:id/messages", std::bind(&Impl::GetTranscript, this, _1, _2)));
  server.Get(session + "/events", Route("/api/v1/sessions/:id/events", std::bind(&Impl::StreamEvents, this, _1, _2)));
  server.Get(session + "/export", Route("/api/v1/sessions/:id/export", std::bind(&Impl::ExportSession, this, _1, _2)));
  server.Delete(session, Route("/api/v1/sessions/:id", std::bind(&Impl::DeleteSession, this, _1, _2)));
  server.Options("/api/v1/.*", Route("preflight", std::bind(&Impl::Preflight, this, _1, _2)));
  AddMethods("/api/v1/sessions", "POST, OPTIONS");
  AddMethods(session + "/messages", "GET, POST, OPTIONS");
  AddMethods(session + "/(events|export)", "GET, OPTIONS");
  AddMethods(session, "DELETE, OPTIONS");
  if (!options.admin_token.empty()) {
    const std::string coach_messages = "/api/v1/admin/conversations/([^/]+)/coach-messages";
    server.Post(coach_messages, Route("/api/v1/admin/conversations/:id/coach-messages",
                                      std::bind(&Impl::PostCoachMessage, this, _1, _2)));
    AddMethods(coach_messages, "POST");
  }
}

void WebServer::Impl::RegisterStaticRoutes() {
  server.Get("/",
             Route("/", [this](const Request& req, Response& res) { ServeAsset(req, res, "index.html", "no-cache"); }));
  server.Get("/widget.js", Route("/widget.js", [this](const Request& req, Response& res) {
               // Host pages embed this URL for good: a short lifetime lets a new release reach them soon.
               ServeAsset(req, res, "widget.js", "public, max-age=300");
             }));
  server.Get("/chat", Route("/chat", [this](const Request& req, Response& res) {
               ServeAsset(req, res, "chat.html", "no-cache");
               if (res.status == 200 || res.status == 304) {
                 res.set_header("Content-Security-Policy", chat_page_policy);
                 res.set_header("Referrer-Policy", "no-referrer");
               }
             }));
  server.Get("/static/([A-Za-z0-9_.-]+)", Route("/static/:file", [this](const Request& req, Response& res) {
               const std::string name = req.matches[1];
               if (name == "index.html" || name == "chat.html") {
                 // The pages have their own routes, with their own headers (the chat page's CSP).
                 Reject(res, 404, "not_found", "no such file");
                 return;
               }
               ServeAsset(req, res, name, "public, max-age=3600");
             }));
}

void WebServer::Impl::ServeAsset(const Request& req, Response& res, std::string_view name, const char* cache_control) {
  const auto* asset = FindStaticAsset(name);
  if (asset == nullptr) {
    Reject(res, 404, "not_found", "no such file");
    return;
  }
  const auto tag = EntityTag(asset->bytes);
  res.set_header("Cache-Control", cache_control);
  res.set_header("ETag", tag);
  res.set_header("X-Content-Type-Options", "nosniff");
  if (req.get_header_value("If-None-Match") == tag) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.set_content(asset->bytes.data(), asset->bytes.size(), std::string(asset->content_type));
}

void WebServer::Impl::Preflight(const Request& req, Response& res) {
  const auto origin = req.get_header_value("Origin");
  if (origin.empty() || !options.cors.Allows(origin)) {
    Reject(res, 403, "origin_not_allowed", "this origin may not call the API");
    return;
  }
  res.status = 204;
  res.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
  res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID");
  res.set_header("Access-Control-Max-Age", "600");
}

void WebServer::Impl::CreateSession(const Request& req, Response& res) {
  if (!Admit(address_limiter, req.remote_addr, "address", res)) return;
  auto credentials = SessionTokens::Issue();
  const auto greeting = dependencies.service.StartConversation(kChannel, credentials.session_id,
                                                               SessionTokens::TokenHash(credentials.token));
  current_request.conversation_id = greeting.conversation_id;
  res.set_header("Cache-Control", "no-store");
  WriteJson(res, 201, {{"session_id", credentials.session_id}, {"token", credentials.token}});
}

void WebServer::Impl::PostMessage(const Request& req, Response& res) {
  const auto access = Authorize(req, res, false);
  if (!access) return;
  if (!IsJsonContentType(req.get_header_value("Content-Type"))) {
    Reject(res, 415, "unsupported_media_type", "the body must be application/json");
    return;
  }
  const auto parse = ParseMessageRequest(req.body);
  if (parse.problem) {
    Reject(res, 400, parse.problem->code, parse.problem->message);
    return;
  }
  if (!Admit(address_limiter, req.remote_addr, "address", res)) return;
  if (!Admit(session_limiter, access->session_id, "session", res)) return;
  const auto result = dependencies.service.HandleInbound({kChannel, access->session_id, parse.request->text,
                                                          parse.request->client_message_id,
                                                          /*create_if_missing=*/false});
  if (result.not_found) {  // erased between the token check and the turn
    Reject(res, 404, "session_not_found", "no such session (it may have been deleted)");
    return;
  }
  if (!result.duplicate && result.triage_level && result.triage_level_changed) {
    metrics.CountTriageDecision(*result.triage_level);
  }
  res.set_header("Cache-Control", "no-store");
  res.status = 200;
  res.set_content(RepliesBody(result), "application/json");
}

void WebServer::Impl::GetTranscript(const Request& req, Response& res) {
  const auto access = Authorize(req, res, false);
  if (!access) return;
  const auto after = ParseMessageId(req.get_param_value("after"));
  if (!after) {
    Reject(res, 400, "invalid_parameter", "after must be a message id (a non-negative integer)");
    return;
  }
  int wait_seconds = 0;
  if (req.has_param("wait")) {
    const auto wait = ParseMessageId(req.get_param_value("wait"));
    if (!wait || *wait > options.max_long_poll_seconds) {
      Reject(res, 400, "invalid_parameter",
             "wait must be a number of seconds from 0 to " + std::to_string(options.max_long_poll_seconds));
      return;
    }
    wait_seconds = static_cast<int>(*wait);
  }
  const auto conversation_id = access->conversation.id;
  const auto header = dependencies.service.FindConversationHeader(kChannel, access->session_id);
  if (!header) {  // erased since the token check
    Reject(res, 404, "session_not_found", "no such session (it may have been deleted)");
    return;
  }
  auto status = header->status;
  auto messages = dependencies.service.Transcript(conversation_id, *after, kTranscriptPageSize + 1);
  if (messages.empty() && wait_seconds > 0) {
    messages = dependencies.service.WaitForMessages(conversation_id, *after, std::chrono::seconds(wait_seconds));
    if (const auto latest = dependencies.service.FindConversation(kChannel, access->session_id)) {
      status = latest->status;
    }
  }
  const bool has_more = messages.size() > static_cast<std::size_t>(kTranscriptPageSize);
  if (has_more) messages.resize(kTranscriptPageSize);
  auto lines = nlohmann::json::array();
  for (const auto& message : messages) lines.push_back(TranscriptLineJson(message));
  res.set_header("Cache-Control", "no-store");
  WriteJson(res, 200, {{"messages", std::move(lines)}, {"status", status}, {"has_more", has_more}});
}

void WebServer::Impl::StreamEvents(const Request& req, Response& res) {
  const auto access = Authorize(req, res, true);
  if (!access) return;
  auto resume_from = req.get_header_value("Last-Event-ID");
  if (resume_from.empty()) resume_from = req.get_param_value("after");
  const auto after = ParseMessageId(resume_from);
  if (!after) {
    Reject(res, 400, "invalid_parameter", "Last-Event-ID and after must be message ids");
    return;
  }
  if (open_streams.fetch_add(1) >= options.max_event_streams) {
    open_streams.fetch_sub(1);
    res.set_header("Retry-After", "30");
    Reject(res, 503, "too_many_streams", "all event stream slots are busy; poll the transcript with ?wait=");
    return;
  }
  auto stream = std::make_shared<EventStream>(*this, access->session_id, access->conversation.id, *after);
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Accel-Buffering", "no");  // nginx would otherwise hold events back
  res.set_chunked_content_provider("text/event-stream",
                                   [stream](std::size_t, httplib::DataSink& sink) { return stream->Pump(sink); });
}

bool WebServer::Impl::EventStream::Pump(httplib::DataSink& sink) {
  try {
    if (!opened) {
      opened = true;
      last_write = Clock::now();
      const std::string preamble = "retry: 3000\n\n";
      return sink.write(preamble.data(), preamble.size());
    }
    const auto now = Clock::now();
    if (impl.stopping.load() || now >= deadline) {
      sink.done();
      return true;
    }
    const auto slice = std::min<Clock::duration>(impl.options.event_wait_slice, deadline - now);
    const auto messages = impl.dependencies.service.WaitForMessages(
        conversation_id, last_id, std::chrono::duration_cast<std::chrono::milliseconds>(slice));
    std::string chunk;
    if (!messages.empty()) {
      // The status travels with each event so that the widget sees a coach join without another request.
      const auto conversation = impl.dependencies.service.FindConversation(kChannel, session_id);
      for (const auto& message : messages) {
        if (message.id <= last_id) continue;
        auto line = TranscriptLineJson(message);
        if (conversation) line["status"] = conversation->status;
        chunk += "id: " + std::to_string(message.id) + "\nevent: message\ndata: " + Dump(line) + "\n\n";
        last_id = message.id;
      }
    }
    if (chunk.empty() && Clock::now() - last_write >= impl.options.heartbeat_interval) chunk = ": heartbeat\n\n";
    if (chunk.empty()) return true;
    last_write = Clock::now();
    // A client that went away shows here: the write fails and httplib closes the connection.
    return sink.write(chunk.data(), chunk.size());
  } catch (...) {
    const auto error = MapException(std::current_exception());
    LogEvent(spdlog::level::warn, "event_stream_failed",
             {{"conversation_id", conversation_id}, {"status", error.status}, {"code", error.code}});
    return false;
  }
}

void WebServer::Impl::ExportSession(const Request& req, Response& res) {
  const auto access = Authorize(req, res, false);
  if (!access) return;
  const auto exported = dependencies.service.Export(access->conversation.id);
  res.set_header("Cache-Control", "no-store");
  res.set_header("Content-Disposition", "attachment; filename=\"coachbot-conversation.json\"");
  WriteJson(res, 200, exported);
}

void WebServer::Impl::DeleteSession(const Request& req, Response& res) {
  const auto access = Authorize(req, res, false);
  if (!access) return;
  if (!dependencies.service.Erase(access->conversation.id)) {
    Reject(res, 404, "session_not_found", "no such session (it may have been deleted)");
    return;
  }
  LogEvent(spdlog::level::info, "session_erased", {{"conversation_id", access->conversation.id}});
  res.status = 204;
}

void WebServer::Impl::PostCoachMessage(const Request& req, Response& res) {
  const auto token = BearerToken(req.get_header_value("Authorization"));
  if (token.empty() || !SessionTokens::SecretsEqual(token, options.admin_token)) {
    res.set_header("WWW-Authenticate", "Bearer");
    Reject(res, 401, "invalid_token", "the admin token is missing or wrong");
    return;
  }
  if (!IsJsonContentType(req.get_header_value("Content-Type"))) {
    Reject(res, 415, "unsupported_media_type", "the body must be application/json");
    return;
  }
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(req.body);
  } catch (const nlohmann::json::parse_error&) {
    Reject(res, 400, "malformed_json", "the body is not valid JSON (or not UTF-8)");
    return;
  }
  if (!body.is_object()) {
    Reject(res, 400, "malformed_json", "the body must be a JSON object");
    return;
  }
  for (const auto& item : body.items()) {
    if (item.key() != "text" && item.key() != "coach_name") {
      Reject(res, 400, "unknown_field", "unknown field: " + item.key());
      return;
    }
  }
  if (!body.contains("text") || !body["text"].is_string() || body["text"].get_ref<const std::string&>().empty()) {
    Reject(res, 400, "invalid_field", "field text must be a non-empty string");
    return;
  }
  std::string coach_name = "Coach";
  if (body.contains("coach_name")) {
    if (!body["coach_name"].is_string() || body["coach_name"].get_ref<const std::string&>().empty()) {
      Reject(res, 400, "invalid_field", "field coach_name must be a non-empty string");
      return;
    }
    coach_name = body["coach_name"].get<std::string>();
  }
  // The id is a web session id: the only conversations this adapter can name without a coach console.
  const std::string session_id = req.matches[1];
  const auto conversation = SessionTokens::LooksLikeSessionId(session_id)
                                ? dependencies.service.FindConversationHeader(kChannel, session_id)
                                : std::nullopt;
  if (!conversation) {
    Reject(res, 404, "conversation_not_found", "no web conversation with this session id");
    return;
  }
  current_request.conversation_id = conversation->id;
  const auto message = dependencies.service.PostCoachMessage(conversation->id, coach_name, body["text"]);
  WriteJson(res, 201, {{"message", TranscriptLineJson(message)}});
}

WebServer::WebServer(WebServerDependencies dependencies, WebServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(dependencies), std::move(options))) {}

WebServer::~WebServer() {
  Stop();
}

int WebServer::Bind(const std::string& host, int port) {
  int bound = -1;
  if (port == 0) {
    bound = impl_->server.bind_to_any_port(host);
  } else if (impl_->server.bind_to_port(host, port)) {
    bound = port;
  }
  if (bound <= 0) {
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) +
                             " (address in use, or not an address of this machine)");
  }
  // The .so was built with a backlog of 5: under load the kernel would drop connections and clients would wait
  // seconds to retry. Listening again on a bound socket only changes the backlog (Linux).
  ::listen(impl_->server.ListeningSocket(), 4096);
  port_ = bound;
  return bound;
}

bool WebServer::Run() {
  if (impl_->stopping.load()) return true;
  const bool served = impl_->server.listen_after_bind();
  // A Stop() that raced the start ends the accept loop with an error: that is still a requested, clean stop.
  return served || impl_->stopping.load();
}

void WebServer::Stop() {
  impl_->stopping.store(true);
  impl_->dependencies.service.StopWaiting();  // event streams and long polls return now instead of after a slice
  if (impl_->server.is_running()) {
    impl_->server.stop();
    // Idle keep-alive connections would otherwise hold their workers, and Run, until their timeout. A connection
    // holding a request stays: the request is answered, and then its worker sees the server stopped.
    std::lock_guard<std::mutex> lock(impl_->reading_mutex);
    const auto ended = EndKeepAliveConnections(port_, [this](const std::string& address, int port) {
      return impl_->reading.count(ConnectionKey(address, port)) == 0;
    });
    if (ended > 0) LogEvent(spdlog::level::info, "idle_connections_ended", {{"count", ended}});
  } else if (port_ != 0) {
    // Run may be about to start: httplib's stop() ignores a server not yet running, but an accept loop on a
    // shut-down socket ends at once.
    ::shutdown(impl_->server.ListeningSocket(), SHUT_RDWR);
  }
}

bool WebServer::IsRunning() const {
  return impl_->server.is_running();
}

}  // namespace coach::adapters::web
