// `coachbot chat`: the triage dialog in a terminal. Interactive (numbered quick replies) on a terminal, JSON Lines
// with --json or when stdin is not a terminal, so that scripts and tests can walk a conversation.
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "adapters/cli/commands.h"
#include "adapters/cli/knowledge_loader.h"
#include "dialog/red_flag_detector.h"
#include "dialog/triage_conversation.h"

namespace coach::adapters::cli {
namespace {

struct ChatOptions {
  bool json = false;
  std::string content_dir = "./content";
  std::string emergency_number = "999, 911 or 112";
};

nlohmann::json ReplyJson(const dialog::Reply& reply, const dialog::TriageConversation& conversation) {
  nlohmann::json quick_replies = nlohmann::json::array();
  for (const auto& option : reply.quick_replies) {
    quick_replies.push_back({{"label", option.label}, {"value", option.value}});
  }
  nlohmann::json level = nullptr;
  if (auto current = conversation.Level()) level = std::string(dialog::ToString(*current));
  return {{"text", reply.text},
          {"quick_replies", quick_replies},
          {"state", conversation.StateKey()},
          {"level", level},
          {"kind", std::string(dialog::ToString(reply.kind))}};
}

void PrintInteractive(const dialog::Reply& reply) {
  const bool alarming = reply.kind == dialog::ReplyKind::emergency || reply.kind == dialog::ReplyKind::urgent;
  std::cout << (alarming ? "\n!! " : "\ncoach> ") << reply.text << "\n";
  for (std::size_t i = 0; i < reply.quick_replies.size(); ++i) {
    std::cout << "   " << (i + 1) << ") " << reply.quick_replies[i].label << "\n";
  }
}

int RunChat(const ChatOptions& options) {
  const bool json_mode = options.json || !::isatty(STDIN_FILENO);
  const auto knowledge = LoadKnowledgeForCli(options.content_dir, /*quiet=*/json_mode);
  const dialog::DialogDependencies deps{dialog::RedFlagDetector::Default(), *knowledge,
                                        dialog::DialogSettings{options.emergency_number}};

  std::vector<dialog::QuickReply> last_options;
  auto show = [&](const dialog::TurnResult& turn, const dialog::TriageConversation& conversation) {
    for (const auto& reply : turn.replies) {
      if (json_mode) {
        std::cout << ReplyJson(reply, conversation).dump() << "\n";
      } else {
        PrintInteractive(reply);
      }
      if (!reply.quick_replies.empty()) last_options = reply.quick_replies;
    }
    std::cout.flush();
  };

  // Each turn rebuilds the conversation from its snapshot, as the server does per request.
  dialog::ConversationSnapshot snapshot;
  {
    dialog::TriageConversation conversation(deps);
    show(conversation.Greet(), conversation);
    snapshot = conversation.Snapshot();
  }
  if (!json_mode) std::cout << "\n(type your answer, a number to pick an option, or Ctrl-D to quit)\n";
  std::string line;
  while (true) {
    if (!json_mode) std::cout << "\nyou> " << std::flush;
    if (!std::getline(std::cin, line)) break;
    // A bare number picks a quick reply in interactive mode (in JSON mode "3" may be a pain score).
    if (!json_mode && !line.empty() && line.size() <= 2 && std::all_of(line.begin(), line.end(), ::isdigit)) {
      const auto index = static_cast<std::size_t>(std::stoul(line));
      if (index >= 1 && index <= last_options.size()) line = last_options[index - 1].value;
    }
    dialog::TriageConversation conversation(deps, snapshot);
    show(conversation.HandleMessage(line), conversation);
    snapshot = conversation.Snapshot();
  }
  if (!json_mode) std::cout << "\nBye, and look after that back.\n";
  return 0;
}

}  // namespace

void AddChatCommand(CLI::App& app) {
  auto options = std::make_shared<ChatOptions>();
  auto* command = app.add_subcommand("chat", "Talk to the triage dialog in the terminal");
  command->footer(
      "On a terminal, quick replies are numbered: type the number or your own words.\n"
      "With --json, or when stdin is not a terminal, each input line is one runner message (a quick reply may be\n"
      "sent as its label or value) and each bot reply is printed as one JSON object per line:\n"
      "  {\"text\":...,\"quick_replies\":[{\"label\":...,\"value\":...}],\"state\":...,\"level\":...,\"kind\":...}\n"
      "Example: printf 'My back hurts when I run\\nno\\n' | coachbot chat --json");
  command->add_flag("--json", options->json, "Read one message per line, print one JSON object per reply");
  command->add_option("--content", options->content_dir, "Coaching content directory (answers and plans)")
      ->envname("COACHBOT_CONTENT")
      ->capture_default_str();
  command->add_option("--emergency-number", options->emergency_number, "Emergency number(s) named in replies")
      ->envname("COACHBOT_EMERGENCY_NUMBER")
      ->capture_default_str();
  command->callback([options]() {
    const int code = RunChat(*options);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace coach::adapters::cli
