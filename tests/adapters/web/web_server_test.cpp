#include "adapters/web/web_server.h"

#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bot/conversation_service.h"
#include "bot/sqlite_conversation_store.h"
#include "dialog/red_flag_detector.h"

using namespace coach;
using namespace coach::adapters::web;
using nlohmann::json;

namespace {

constexpr const char* kAdminToken = "test-admin-token";
constexpr const char* kAllowedOrigin = "https://coach.example";

/// The content is another library's business: one canned plan, no FAQ answers.
class FakeKnowledge final : public dialog::KnowledgeSource {
 public:
  std::optional<dialog::KnowledgeAnswer> Answer(std::string_view) const override { return std::nullopt; }
  std::vector<std::string> Plan(const dialog::PlanRequest&) const override { return {"Day 1: easy walk"}; }
};

WebServerOptions TestOptions() {
  WebServerOptions options;
  options.threads = 8;
  options.max_event_streams = 4;
  options.session_messages_per_minute = 0;
  options.cors = CorsPolicy::FromList(kAllowedOrigin);
  options.admin_token = kAdminToken;
  options.event_wait_slice = std::chrono::milliseconds(200);
  return options;
}

/// The real service on a fresh in-memory store behind a real server on an ephemeral port.
class LiveServer {
 public:
  /// `database_ready` replaces the store's own readiness probe when set.
  explicit LiveServer(WebServerOptions options = TestOptions(), std::function<bool()> database_ready = nullptr)
      : store_(":memory:"),
        service_(store_, dialog::DialogDependencies{dialog::RedFlagDetector::Default(), knowledge_, {}}),
        server_(
            WebServerDependencies{
                service_,
                database_ready ? std::move(database_ready) : std::function<bool()>([this] { return store_.Ping(); }),
                [this] {
                  const auto metrics = store_.Metrics();
                  return ServiceGauges{metrics.conversations_by_state, metrics.conversations_by_status,
                                       metrics.conversations_by_level, metrics.open_escalations_by_level};
                }},
            std::move(options)) {
    port_ = server_.Bind("127.0.0.1", 0);
    thread_ = std::thread([this] { server_.Run(); });
    while (!server_.IsRunning()) std::this_thread::yield();
  }
  ~LiveServer() {
    server_.Stop();
    thread_.join();
  }

  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(30, 0);
    return client;
  }
  int port() const { return port_; }
  bot::ConversationService& service() { return service_; }

 private:
  FakeKnowledge knowledge_;
  bot::SqliteConversationStore store_;
  bot::ConversationService service_;
  WebServer server_;
  int port_ = 0;
  std::thread thread_;
};

struct Session {
  std::string id;
  std::string token;
  httplib::Headers auth() const { return {{"Authorization", "Bearer " + token}}; }
  std::string path(const std::string& suffix = "") const { return "/api/v1/sessions/" + id + suffix; }
};

Session CreateSession(httplib::Client& client) {
  const auto res = client.Post("/api/v1/sessions", "{}", "application/json");
  REQUIRE(res);
  REQUIRE(res->status == 201);
  const auto body = json::parse(res->body);
  return {body.at("session_id"), body.at("token")};
}

httplib::Result SendMessage(httplib::Client& client, const Session& session, const std::string& text,
                            const std::string& client_message_id) {
  return client.Post(session.path("/messages").c_str(), session.auth(),
                     json{{"text", text}, {"client_message_id", client_message_id}}.dump(), "application/json");
}

/// Asserts the JSON error shape and returns its code.
std::string ErrorCode(const httplib::Result& res) {
  REQUIRE(res);
  CHECK(res->get_header_value("Content-Type") == "application/json");
  const auto body = json::parse(res->body);
  REQUIRE(body.contains("error"));
  CHECK(body["error"]["message"].is_string());
  return body["error"]["code"];
}

json Transcript(httplib::Client& client, const Session& session, std::int64_t after = 0) {
  const auto res = client.Get((session.path("/messages") + "?after=" + std::to_string(after)).c_str(), session.auth());
  REQUIRE(res);
  REQUIRE(res->status == 200);
  return json::parse(res->body);
}

using Events = std::vector<std::pair<std::int64_t, json>>;

/// Reads an event stream on its own thread and collects the events, so that the test can act meanwhile; hangs up
/// once `enough` says so.
class EventReader {
 public:
  EventReader(const LiveServer& server, std::string path, httplib::Headers headers,
              std::function<bool(const Events&)> enough)
      : enough_(std::move(enough)) {
    thread_ = std::thread([this, &server, path = std::move(path), headers = std::move(headers)] {
      auto client = server.Client();
      const auto res = client.Get(path.c_str(), headers, [this](const char* data, std::size_t size) {
        std::lock_guard<std::mutex> lock(mutex_);
        buffer_.append(data, size);
        Parse();
        changed_.notify_all();
        return !enough_(events_);
      });
      std::lock_guard<std::mutex> lock(mutex_);
      finished_ = true;
      changed_.notify_all();
    });
  }
  ~EventReader() {
    if (thread_.joinable()) thread_.join();
  }

  /// Blocks until the server has opened the stream (its first bytes arrived).
  void WaitUntilOpen() {
    std::unique_lock<std::mutex> lock(mutex_);
    REQUIRE(changed_.wait_for(lock, std::chrono::seconds(30), [this] { return opened_ || finished_; }));
    REQUIRE(opened_);
  }
  /// Blocks until enough events arrived (the reader then hangs up) and returns them.
  Events Collected() {
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lock(mutex_);
    return events_;
  }
  std::string Raw() {
    std::lock_guard<std::mutex> lock(mutex_);
    return buffer_;
  }

 private:
  void Parse() {
    if (buffer_.find("retry:") != std::string::npos) opened_ = true;
    std::size_t end;
    while ((end = buffer_.find("\n\n", parsed_)) != std::string::npos) {
      const auto block = buffer_.substr(parsed_, end - parsed_);
      parsed_ = end + 2;
      std::smatch match;
      static const std::regex event(R"(id: (\d+)\nevent: message\ndata: (.*))");
      if (std::regex_match(block, match, event))
        events_.emplace_back(std::stoll(match[1]), json::parse(match[2].str()));
    }
  }

  std::function<bool(const Events&)> enough_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string buffer_;
  std::size_t parsed_ = 0;
  bool opened_ = false;
  bool finished_ = false;
  Events events_;
};

/// Stops a reader at the first event with this text.
std::function<bool(const Events&)> UntilText(std::string text) {
  return [text = std::move(text)](const Events& events) {
    return !events.empty() && events.back().second["text"] == text;
  };
}

std::function<bool(const Events&)> UntilCount(std::size_t count) {
  return [count](const Events& events) { return events.size() >= count; };
}

httplib::Result PostCoachMessage(httplib::Client& client, const Session& session, const std::string& text) {
  return client.Post(("/api/v1/admin/conversations/" + session.id + "/coach-messages").c_str(),
                     {{"Authorization", std::string("Bearer ") + kAdminToken}},
                     json{{"text", text}, {"coach_name", "Sam"}}.dump(), "application/json");
}

}  // namespace

TEST_CASE("a whole conversation over HTTP", "[web_server]") {
  LiveServer server;
  auto client = server.Client();
  const auto session = CreateSession(client);
  CHECK(session.id.size() == 32);
  CHECK(session.token.size() >= 43);

  // The greeting is already in the transcript, with quick replies to click.
  auto transcript = Transcript(client, session);
  REQUIRE(transcript["messages"].size() >= 1);
  CHECK(transcript["status"] == "bot");
  CHECK(transcript["has_more"] == false);
  const auto& greeting = transcript["messages"].back();
  CHECK(greeting["author"] == "bot");
  REQUIRE(greeting["quick_replies"].size() >= 2);
  CHECK(greeting["created_at"].get<std::string>().size() == 24);

  // Click through the conversation by always taking the first quick reply; every turn answers.
  std::int64_t last_id = greeting["id"];
  std::string value = greeting["quick_replies"][0]["value"];
  for (int turn = 0; turn < 6 && !value.empty(); ++turn) {
    const auto res = SendMessage(client, session, value, "turn-" + std::to_string(turn));
    REQUIRE(res);
    REQUIRE(res->status == 200);
    const auto body = json::parse(res->body);
    REQUIRE(body["replies"].size() >= 1);
    CHECK(body["status"].is_string());
    for (const auto& reply : body["replies"]) {
      CHECK(reply["id"].get<std::int64_t>() > last_id);
      last_id = reply["id"];
      CHECK(reply["text"].is_string());
      CHECK(reply["kind"].is_string());
      CHECK(reply["quick_replies"].is_array());
    }
    const auto& last = body["replies"].back();
    value = last["quick_replies"].empty() ? "" : last["quick_replies"][0]["value"].get<std::string>();
  }

  // The same client message id again answers the same replies and stores nothing new.
  const auto before = Transcript(client, session)["messages"].size();
  const auto first = SendMessage(client, session, "my back hurts after long runs", "same-id");
  const auto again = SendMessage(client, session, "my back hurts after long runs", "same-id");
  REQUIRE(first);
  REQUIRE(again);
  CHECK(json::parse(first->body)["replies"] == json::parse(again->body)["replies"]);
  const auto after = Transcript(client, session);
  CHECK(after["messages"].size() == before + 1 + json::parse(first->body)["replies"].size());

  // The transcript alternates authors in id order and starts after `after=`.
  std::int64_t previous = 0;
  for (const auto& line : after["messages"]) {
    CHECK(line["id"].get<std::int64_t>() > previous);
    previous = line["id"];
  }
  const auto tail = Transcript(client, session, after["messages"][1]["id"]);
  CHECK(tail["messages"].size() == after["messages"].size() - 2);
}

TEST_CASE("an emergency message gets the emergency reply and calls a coach", "[web_server]") {
  LiveServer server;
  auto client = server.Client();
  const auto session = CreateSession(client);
  const auto res = SendMessage(client, session, "my back hurts and I can't feel anything when I wipe", "e-1");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  const auto body = json::parse(res->body);
  bool emergency = false;
  for (const auto& reply : body["replies"]) emergency = emergency || reply["kind"] == "emergency";
  CHECK(emergency);
  CHECK(body["status"] == "waiting_for_coach");

  const auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("coachbot_triage_decisions_total{level=\"emergency\"} 1") != std::string::npos);
  CHECK(metrics->body.find("coachbot_open_escalations{level=\"emergency\"} 1") != std::string::npos);
}

TEST_CASE("bad requests get JSON errors with the right status", "[web_server]") {
  LiveServer server;
  auto client = server.Client();
  const auto session = CreateSession(client);
  const auto post = [&](const std::string& body, const std::string& content_type = "application/json") {
    return client.Post(session.path("/messages").c_str(), session.auth(), body, content_type.c_str());
  };

  SECTION("400 for malformed JSON") {
    const auto res = post("{\"text\": ");
    CHECK(res->status == 400);
    CHECK(ErrorCode(res) == "malformed_json");
  }
  SECTION("400 naming an unknown field") {
    const auto res = post(R"({"text": "hi", "client_message_id": "a", "role": "admin"})");
    CHECK(res->status == 400);
    CHECK(ErrorCode(res) == "unknown_field");
    CHECK(json::parse(res->body)["error"]["message"].get<std::string>().find("role") != std::string::npos);
  }
  SECTION("400 for a missing or non-string text") {
    auto res = post(R"({"client_message_id": "a"})");
    CHECK(res->status == 400);
    CHECK(ErrorCode(res) == "missing_field");
    res = post(R"({"text": ["hi"], "client_message_id": "a"})");
    CHECK(res->status == 400);
    CHECK(ErrorCode(res) == "invalid_field");
  }
  SECTION("400 for invalid UTF-8") {
    const auto res = post("{\"text\": \"\xFF\xFE\", \"client_message_id\": \"a\"}");
    CHECK(res->status == 400);
    CHECK(ErrorCode(res) == "invalid_utf8");
  }
  SECTION("400 for a bad after= parameter") {
    const auto res = client.Get(session.path("/messages?after=abc").c_str(), session.auth());
    CHECK(res->status == 400);
    CHECK(ErrorCode(res) == "invalid_parameter");
  }
  SECTION("401 without or with a wrong token") {
    auto res = client.Post(session.path("/messages").c_str(), R"({"text": "hi", "client_message_id": "a"})",
                           "application/json");
    CHECK(res->status == 401);
    CHECK(ErrorCode(res) == "missing_token");
    CHECK(res->has_header("WWW-Authenticate"));
    const auto other = CreateSession(client);
    res = client.Get(session.path("/messages").c_str(), other.auth());
    CHECK(res->status == 401);
    CHECK(ErrorCode(res) == "invalid_token");
    // The event stream accepts ?token= (EventSource cannot send headers), other routes do not.
    res = client.Get((session.path("/messages") + "?token=" + session.token).c_str());
    CHECK(res->status == 401);
  }
  SECTION("404 for an unknown session") {
    const Session unknown{"0123456789abcdef0123456789abcdef", session.token};
    auto res = client.Get(unknown.path("/messages").c_str(), unknown.auth());
    CHECK(res->status == 404);
    CHECK(ErrorCode(res) == "session_not_found");
    res = client.Get("/api/v1/sessions/not-even-an-id/messages", session.auth());
    CHECK(res->status == 404);
    res = client.Get("/no/such/route");
    CHECK(res->status == 404);
    CHECK(ErrorCode(res) == "not_found");
  }
  SECTION("413 for a body over 16 KB") {
    const auto res = post(json{{"text", std::string(17 * 1024, 'a')}, {"client_message_id", "a"}}.dump());
    REQUIRE(res);
    CHECK(res->status == 413);
    CHECK(ErrorCode(res) == "payload_too_large");
  }
  SECTION("415 for another content type") {
    const auto res = post(R"({"text": "hi", "client_message_id": "a"})", "text/plain");
    CHECK(res->status == 415);
    CHECK(ErrorCode(res) == "unsupported_media_type");
  }
  SECTION("405 for a wrong method on a known route") {
    const auto res = client.Put(session.path("/messages").c_str(), session.auth(), "{}", "application/json");
    CHECK(res->status == 405);
    CHECK(res->get_header_value("Allow") == "GET, POST, OPTIONS");
    CHECK(ErrorCode(res) == "method_not_allowed");
  }
}

TEST_CASE("a session sending too fast gets 429 with Retry-After", "[web_server]") {
  auto options = TestOptions();
  options.session_messages_per_minute = 6;  // burst of one, then one every ten seconds
  LiveServer server(options);
  auto client = server.Client();
  const auto session = CreateSession(client);
  auto res = SendMessage(client, session, "hello", "r-1");
  CHECK(res->status == 200);
  res = SendMessage(client, session, "hello again", "r-2");
  REQUIRE(res->status == 429);
  CHECK(ErrorCode(res) == "rate_limited");
  const int retry_after = std::stoi(res->get_header_value("Retry-After"));
  CHECK(retry_after >= 1);
  CHECK(retry_after <= 10);
  // Another session has its own bucket.
  const auto other = CreateSession(client);
  CHECK(SendMessage(client, other, "hello", "r-3")->status == 200);
}

TEST_CASE("an address creating sessions too fast gets 429", "[web_server]") {
  auto options = TestOptions();
  options.session_messages_per_minute = 30;
  options.address_requests_per_minute = 12;  // burst of two
  LiveServer server(options);
  auto client = server.Client();
  CHECK(client.Post("/api/v1/sessions", "{}", "application/json")->status == 201);
  CHECK(client.Post("/api/v1/sessions", "{}", "application/json")->status == 201);
  const auto res = client.Post("/api/v1/sessions", "{}", "application/json");
  CHECK(res->status == 429);
  CHECK(res->has_header("Retry-After"));
}

TEST_CASE("CORS answers only the allowed origins", "[web_server]") {
  LiveServer server;
  auto client = server.Client();

  auto res = client.Post("/api/v1/sessions", {{"Origin", kAllowedOrigin}}, "{}", "application/json");
  CHECK(res->status == 201);
  CHECK(res->get_header_value("Access-Control-Allow-Origin") == kAllowedOrigin);
  CHECK(res->get_header_value("Vary") == "Origin");

  res = client.Post("/api/v1/sessions", {{"Origin", "https://evil.example"}}, "{}", "application/json");
  CHECK_FALSE(res->has_header("Access-Control-Allow-Origin"));
  CHECK(res->get_header_value("Vary") == "Origin");

  httplib::Headers preflight = {{"Origin", kAllowedOrigin},
                                {"Access-Control-Request-Method", "POST"},
                                {"Access-Control-Request-Headers", "authorization, content-type"}};
  res = client.Options("/api/v1/sessions/0123456789abcdef0123456789abcdef/messages", preflight);
  CHECK(res->status == 204);
  CHECK(res->get_header_value("Access-Control-Allow-Origin") == kAllowedOrigin);
  CHECK(res->get_header_value("Access-Control-Allow-Headers").find("Authorization") != std::string::npos);
  CHECK(res->get_header_value("Access-Control-Allow-Methods").find("POST") != std::string::npos);

  preflight.erase("Origin");
  preflight.emplace("Origin", "https://evil.example");
  res = client.Options("/api/v1/sessions", preflight);
  CHECK(res->status == 403);
  CHECK_FALSE(res->has_header("Access-Control-Allow-Origin"));
  CHECK(ErrorCode(res) == "origin_not_allowed");

  // Error responses carry CORS too, so that the widget can read them.
  res = client.Get("/api/v1/sessions/0123456789abcdef0123456789abcdef/messages", {{"Origin", kAllowedOrigin}});
  CHECK(res->status == 401);
  CHECK(res->get_header_value("Access-Control-Allow-Origin") == kAllowedOrigin);
}

TEST_CASE("server-sent events deliver coach messages and resume without duplicates", "[web_server]") {
  LiveServer server;
  auto client = server.Client();
  const auto session = CreateSession(client);
  const std::int64_t greeting_id = Transcript(client, session)["messages"].back()["id"];

  std::int64_t coach_id = 0;
  {
    // Connected after the greeting: what arrives is what was added after connecting, ending with the coach's
    // message (a coach joining may add a line announcing it first).
    EventReader reader(server, session.path("/events") + "?after=" + std::to_string(greeting_id),
                       {{"Authorization", "Bearer " + session.token}}, UntilText("Hi, this is Sam, your coach."));
    reader.WaitUntilOpen();
    const auto posted = PostCoachMessage(client, session, "Hi, this is Sam, your coach.");
    REQUIRE(posted);
    REQUIRE(posted->status == 201);
    coach_id = json::parse(posted->body)["message"]["id"];
    const auto events = reader.Collected();
    REQUIRE(!events.empty());
    CHECK(events.front().first > greeting_id);
    CHECK(events.back().first == coach_id);
    CHECK(events.back().second["author"] == "coach");
    CHECK(events.back().second["status"] == "coach");
  }
  {
    // Resuming with Last-Event-ID (and the token as a query parameter, as EventSource sends it) gives exactly
    // what came after that event, each once, in order.
    const auto second = PostCoachMessage(client, session, "How is the pain today?");
    REQUIRE(second->status == 201);
    const auto third = PostCoachMessage(client, session, "Take your time.");
    REQUIRE(third->status == 201);
    const auto expected = Transcript(client, session, coach_id)["messages"];
    REQUIRE(expected.size() >= 2);
    EventReader reader(server, session.path("/events") + "?token=" + session.token,
                       {{"Last-Event-ID", std::to_string(coach_id)}}, UntilText("Take your time."));
    const auto events = reader.Collected();
    REQUIRE(events.size() == expected.size());
    for (std::size_t i = 0; i < events.size(); ++i) CHECK(events[i].first == expected[i]["id"]);
    CHECK(reader.Raw().rfind("retry: 3000\n\n", 0) == 0);
  }
  {
    // From the start, the stream replays the whole transcript in order.
    const auto lines = Transcript(client, session)["messages"];
    EventReader reader(server, session.path("/events") + "?token=" + session.token, {}, UntilCount(lines.size()));
    const auto events = reader.Collected();
    REQUIRE(events.size() == lines.size());
    for (std::size_t i = 0; i < events.size(); ++i) CHECK(events[i].first == lines[i]["id"]);
  }
}

TEST_CASE("event streams need the session's token and are limited in number", "[web_server]") {
  auto options = TestOptions();
  options.max_event_streams = 1;
  LiveServer server(options);
  auto client = server.Client();
  const auto session = CreateSession(client);
  CHECK(client.Get(session.path("/events").c_str())->status == 401);
  CHECK(client.Get((session.path("/events") + "?token=wrong").c_str())->status == 401);
  CHECK(client.Get((session.path("/events") + "?after=x&token=" + session.token).c_str())->status == 400);

  const std::int64_t last = Transcript(client, session)["messages"].back()["id"];
  EventReader reader(server, session.path("/events") + "?after=" + std::to_string(last) + "&token=" + session.token, {},
                     UntilText("done"));
  reader.WaitUntilOpen();
  const auto refused = client.Get((session.path("/events") + "?token=" + session.token).c_str());
  CHECK(refused->status == 503);
  CHECK(ErrorCode(refused) == "too_many_streams");
  CHECK(refused->has_header("Retry-After"));
  PostCoachMessage(client, session, "done");
  CHECK(reader.Collected().back().second["text"] == "done");
}

TEST_CASE("a client that hangs up frees its event stream slot", "[web_server]") {
  auto options = TestOptions();
  options.max_event_streams = 1;
  options.event_wait_slice = std::chrono::milliseconds(20);
  options.heartbeat_interval = std::chrono::milliseconds(1);  // every idle slice writes, so a gone client shows
  LiveServer server(options);
  auto client = server.Client();
  const auto session = CreateSession(client);
  const auto stream = session.path("/events") + "?token=" + session.token;
  {
    // Takes the only slot, reads the greeting, then hangs up.
    EventReader reader(server, stream, {}, UntilCount(1));
    REQUIRE(!reader.Collected().empty());
  }
  // The server notices at its next heartbeat; until then the slot is busy. No sleeping: ask until it is free.
  int refusals = 0;
  for (;;) {
    EventReader next(server, stream, {}, UntilCount(1));
    const auto events = next.Collected();
    if (!events.empty()) break;
    REQUIRE(++refusals < 100000);
  }
  SUCCEED("slot freed after " << refusals << " refusals");
}

TEST_CASE("long polling returns messages that arrive while waiting", "[web_server]") {
  LiveServer server;
  auto client = server.Client();
  const auto session = CreateSession(client);
  const std::int64_t start = Transcript(client, session)["messages"].back()["id"];
  std::thread coach([&] {
    auto other = server.Client();
    PostCoachMessage(other, session, "Still there?");
  });
  // Poll as the widget does, from the last id seen, until the coach's message is in.
  json received = json::array();
  std::int64_t last = start;
  std::string status;
  while (received.empty() || received.back()["text"] != "Still there?") {
    const auto res =
        client.Get((session.path("/messages") + "?wait=25&after=" + std::to_string(last)).c_str(), session.auth());
    REQUIRE(res->status == 200);
    const auto body = json::parse(res->body);
    for (const auto& line : body["messages"]) {
      received.push_back(line);
      last = line["id"];
    }
    status = body["status"];
  }
  coach.join();
  CHECK(received == Transcript(client, session, start)["messages"]);
  CHECK(status == "coach");
  CHECK(client.Get((session.path("/messages") + "?wait=26").c_str(), session.auth())->status == 400);
}

TEST_CASE("the admin route needs the admin token and exists only when configured", "[web_server]") {
  {
    LiveServer server;
    auto client = server.Client();
    const auto session = CreateSession(client);
    const auto path = "/api/v1/admin/conversations/" + session.id + "/coach-messages";
    const auto body = json{{"text", "hi"}}.dump();
    CHECK(client.Post(path.c_str(), body, "application/json")->status == 401);
    CHECK(client.Post(path.c_str(), session.auth(), body, "application/json")->status == 401);
    const httplib::Headers admin = {{"Authorization", std::string("Bearer ") + kAdminToken}};
    CHECK(client.Post(path.c_str(), admin, R"({"text": "hi", "extra": 1})", "application/json")->status == 400);
    CHECK(client.Post(path.c_str(), admin, R"({"text": ""})", "application/json")->status == 400);
    CHECK(client
              .Post("/api/v1/admin/conversations/0123456789abcdef0123456789abcdef/coach-messages", admin, body,
                    "application/json")
              ->status == 404);
    CHECK(client.Post(path.c_str(), admin, body, "application/json")->status == 201);
  }
  {
    auto options = TestOptions();
    options.admin_token.clear();
    LiveServer server(options);
    auto client = server.Client();
    const auto session = CreateSession(client);
    const auto res = client.Post(("/api/v1/admin/conversations/" + session.id + "/coach-messages").c_str(),
                                 {{"Authorization", "Bearer "}}, json{{"text", "hi"}}.dump(), "application/json");
    CHECK(res->status == 404);
  }
}

TEST_CASE("export returns the runner's data and delete erases it", "[web_server]") {
  LiveServer server;
  auto client = server.Client();
  const auto session = CreateSession(client);
  REQUIRE(SendMessage(client, session, "my lower back is stiff after runs", "x-1")->status == 200);

  const auto exported = client.Get(session.path("/export").c_str(), session.auth());
  REQUIRE(exported->status == 200);
  CHECK(exported->get_header_value("Cache-Control") == "no-store");
  CHECK(exported->body.find("my lower back is stiff after runs") != std::string::npos);
  CHECK(exported->body.find(session.token) == std::string::npos);
  CHECK(json::parse(exported->body).is_object());

  CHECK(client.Delete(session.path().c_str())->status == 401);
  const auto erased = client.Delete(session.path().c_str(), session.auth());
  CHECK(erased->status == 204);
  CHECK(erased->body.empty());
  CHECK(client.Get(session.path("/messages").c_str(), session.auth())->status == 404);
  CHECK(client.Get(session.path("/export").c_str(), session.auth())->status == 404);
  CHECK(client.Delete(session.path().c_str(), session.auth())->status == 404);
  CHECK(SendMessage(client, session, "hello?", "x-2")->status == 404);
}

TEST_CASE("operations endpoints: health, readiness and metrics", "[web_server]") {
  LiveServer server;
  auto client = server.Client();
  CHECK(client.Get("/healthz")->status == 200);
  const auto ready = client.Get("/readyz");
  CHECK(ready->status == 200);
  CHECK(json::parse(ready->body)["status"] == "ready");
  const auto session = CreateSession(client);
  SendMessage(client, session, "hi", "m-1");
  client.Get("/no/such/route");

  const auto metrics = client.Get("/metrics");
  REQUIRE(metrics->status == 200);
  CHECK(metrics->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
  const std::regex sample(R"([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [0-9.e+-]+)");
  const std::regex comment(R"(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+)");
  std::istringstream lines(metrics->body);
  std::string line;
  int samples = 0;
  while (std::getline(lines, line)) {
    INFO(line);
    CHECK((std::regex_match(line, sample) || std::regex_match(line, comment)));
    ++samples;
  }
  CHECK(samples > 20);
  const auto& text = metrics->body;
  CHECK(text.find(R"(coachbot_http_requests_total{route="/api/v1/sessions",method="POST",status="201"} 1)") !=
        std::string::npos);
  CHECK(text.find(
            R"(coachbot_http_requests_total{route="/api/v1/sessions/:id/messages",method="POST",status="200"} 1)") !=
        std::string::npos);
  CHECK(text.find(R"(coachbot_http_requests_total{route="unmatched",method="GET",status="404"} 1)") !=
        std::string::npos);
  CHECK(text.find(R"(coachbot_http_request_duration_seconds_count{route="/api/v1/sessions"} 1)") != std::string::npos);
  CHECK(text.find(R"(coachbot_conversations{state="greeting"} 1)") != std::string::npos);
  CHECK(text.find(R"(coachbot_conversations_by_status{status="bot"} 1)") != std::string::npos);
  // Labels name route patterns, never a session id.
  CHECK(text.find(session.id) == std::string::npos);
}

TEST_CASE("readiness fails while the database does not answer", "[web_server]") {
  LiveServer server(TestOptions(), [] { return false; });
  auto client = server.Client();
  const auto res = client.Get("/readyz");
  CHECK(res->status == 503);
  CHECK(ErrorCode(res) == "database_unavailable");
  CHECK(client.Get("/healthz")->status == 200);
}

TEST_CASE("the widget's files are served with their headers", "[web_server]") {
  LiveServer server;
  auto client = server.Client();

  const auto page = client.Get("/");
  REQUIRE(page->status == 200);
  CHECK(page->get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK(page->get_header_value("Cache-Control") == "no-cache");

  const auto chat = client.Get("/chat");
  REQUIRE(chat->status == 200);
  const auto csp = chat->get_header_value("Content-Security-Policy");
  CHECK(csp.find("script-src 'self'") != std::string::npos);
  CHECK(csp.find(std::string("frame-ancestors 'self' ") + kAllowedOrigin) != std::string::npos);
  CHECK(chat->get_header_value("X-Content-Type-Options") == "nosniff");

  const auto widget = client.Get("/widget.js");
  REQUIRE(widget->status == 200);
  CHECK(widget->get_header_value("Content-Type") == "text/javascript; charset=utf-8");
  const auto tag = widget->get_header_value("ETag");
  CHECK_FALSE(tag.empty());
  CHECK(client.Get("/widget.js", {{"If-None-Match", tag}})->status == 304);

  CHECK(client.Get("/static/chat.js")->status == 200);
  CHECK(client.Get("/static/chat.css")->get_header_value("Content-Type") == "text/css; charset=utf-8");
  CHECK(client.Get("/static/chat.html")->status == 404);
  CHECK(client.Get("/static/missing.js")->status == 404);
  CHECK(client.Get("/static/..%2Fweb_server.cpp")->status == 404);
}

TEST_CASE("an idle keep-alive connection does not hold the server after Stop", "[web_server]") {
  FakeKnowledge knowledge;
  bot::SqliteConversationStore store(":memory:");
  bot::ConversationService service(store,
                                   dialog::DialogDependencies{dialog::RedFlagDetector::Default(), knowledge, {}});
  auto options = TestOptions();
  options.keep_alive_timeout = std::chrono::hours(1);  // what a worker would otherwise wait for the next request
  WebServer server(WebServerDependencies{service, [] { return true; }, [] { return ServiceGauges{}; }}, options);
  const int port = server.Bind("127.0.0.1", 0);
  std::promise<bool> served;
  auto finished = served.get_future();
  std::thread runner([&] { served.set_value(server.Run()); });
  while (!server.IsRunning()) std::this_thread::yield();

  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  const auto res = client.Get("/healthz");
  REQUIRE(res);
  REQUIRE(res->status == 200);  // the connection now waits, idle, for a next request

  server.Stop();
  const bool returned = finished.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
  CHECK(returned);
  if (!returned) client.stop();  // lets the worker go, so that the test ends either way
  runner.join();
  CHECK(finished.get());
}

TEST_CASE("a second server cannot bind a port that is in use", "[web_server]") {
  LiveServer first;
  FakeKnowledge knowledge;
  bot::SqliteConversationStore store(":memory:");
  bot::ConversationService service(store,
                                   dialog::DialogDependencies{dialog::RedFlagDetector::Default(), knowledge, {}});
  WebServer second(WebServerDependencies{service, [] { return true; }, [] { return ServiceGauges{}; }}, TestOptions());
  CHECK_THROWS_AS(second.Bind("127.0.0.1", first.port()), std::runtime_error);
}
