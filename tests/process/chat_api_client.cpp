#include "chat_api_client.h"

namespace coach::process_tests {
namespace {

constexpr int kMaxTranscriptPages = 1000;

std::string StringField(const nlohmann::json& object, const char* name) {
  const auto found = object.find(name);
  if (found == object.end() || !found->is_string()) return {};
  return found->get<std::string>();
}

std::int64_t IdField(const nlohmann::json& object) {
  const auto found = object.find("id");
  if (found == object.end()) return 0;
  if (found->is_number_integer()) return found->get<std::int64_t>();
  if (found->is_string()) return std::stoll(found->get<std::string>());
  return 0;
}

nlohmann::json QuickRepliesField(const nlohmann::json& object) {
  const auto found = object.find("quick_replies");
  if (found == object.end() || !found->is_array()) return nlohmann::json::array();
  return *found;
}

}  // namespace

ChatApiClient::ChatApiClient(int port) : client_(std::make_unique<httplib::Client>("127.0.0.1", port)) {
  client_->set_keep_alive(true);
  client_->set_tcp_nodelay(true);
  client_->set_connection_timeout(std::chrono::seconds(10));
  client_->set_read_timeout(std::chrono::seconds(60));
  client_->set_write_timeout(std::chrono::seconds(60));
}

std::optional<ChatSession> ChatApiClient::CreateSession() {
  auto response = client_->Post("/api/v1/sessions", "{}", "application/json");
  if (!response || response->status != 201) return std::nullopt;
  const auto body = nlohmann::json::parse(response->body, nullptr, false);
  if (!body.is_object()) return std::nullopt;
  ChatSession session{StringField(body, "session_id"), StringField(body, "token")};
  if (session.id.empty() || session.token.empty()) return std::nullopt;
  return session;
}

SendOutcome ChatApiClient::Send(const ChatSession& session, const std::string& text,
                                const std::string& client_message_id) {
  const nlohmann::json request{{"text", text}, {"client_message_id", client_message_id}};
  const httplib::Headers headers{{"Authorization", "Bearer " + session.token}};
  SendOutcome outcome;
  auto response = client_->Post(("/api/v1/sessions/" + session.id + "/messages").c_str(), headers, request.dump(),
                                "application/json");
  if (!response) return outcome;
  outcome.status_code = response->status;
  outcome.body = response->body;
  if (response->status != 200) return outcome;
  const auto body = nlohmann::json::parse(response->body, nullptr, false);
  if (!body.is_object()) return outcome;
  outcome.conversation_status = StringField(body, "status");
  if (const auto replies = body.find("replies"); replies != body.end() && replies->is_array()) {
    for (const auto& reply : *replies) {
      outcome.replies.push_back(ChatReply{IdField(reply), StringField(reply, "text"), QuickRepliesField(reply)});
    }
  }
  return outcome;
}

std::optional<std::vector<TranscriptLine>> ChatApiClient::Transcript(const ChatSession& session) {
  const httplib::Headers headers{{"Authorization", "Bearer " + session.token}};
  std::vector<TranscriptLine> lines;
  std::int64_t after = 0;
  for (int page = 0; page < kMaxTranscriptPages; ++page) {
    const std::string path = "/api/v1/sessions/" + session.id + "/messages?after=" + std::to_string(after);
    auto response = client_->Get(path.c_str(), headers);
    if (!response || response->status != 200) return std::nullopt;
    const auto body = nlohmann::json::parse(response->body, nullptr, false);
    if (body.is_discarded()) return std::nullopt;
    auto page_lines = ParseTranscriptPage(body);
    if (page_lines.empty()) return lines;
    // A page that does not move forward would loop forever; it is a server bug worth failing on.
    if (page_lines.back().id <= after) return std::nullopt;
    after = page_lines.back().id;
    lines.insert(lines.end(), page_lines.begin(), page_lines.end());
  }
  return std::nullopt;
}

std::vector<TranscriptLine> ParseTranscriptPage(const nlohmann::json& body) {
  const nlohmann::json* array = &body;
  if (body.is_object()) {
    const auto found = body.find("messages");
    if (found == body.end()) return {};
    array = &*found;
  }
  std::vector<TranscriptLine> lines;
  if (!array->is_array()) return lines;
  for (const auto& item : *array) {
    TranscriptLine line;
    line.id = IdField(item);
    line.author = StringField(item, "author");
    if (line.author.empty()) line.author = StringField(item, "role");
    if (line.author.empty()) line.author = StringField(item, "from");
    line.text = StringField(item, "text");
    line.quick_replies = QuickRepliesField(item);
    lines.push_back(std::move(line));
  }
  return lines;
}

bool SameTranscript(const std::vector<TranscriptLine>& left, const std::vector<TranscriptLine>& right) {
  if (left.size() != right.size()) return false;
  for (std::size_t index = 0; index < left.size(); ++index) {
    const auto& a = left[index];
    const auto& b = right[index];
    if (a.id != b.id || a.author != b.author || a.text != b.text || a.quick_replies != b.quick_replies) return false;
  }
  return true;
}

}  // namespace coach::process_tests
