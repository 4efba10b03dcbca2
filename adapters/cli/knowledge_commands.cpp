// `coachbot index` and `coachbot ask`: the coaching content and its FAQ index from a terminal, for content authors
// (does my change load? which topic answers this?) and for scripted evaluation (ask --jsonl).
#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "adapters/cli/commands.h"
#include "knowledge/knowledge_base.h"

namespace coach::adapters::cli {
namespace {

/// What the runner reads when no topic is confident enough; the dialog words its own version with a coach offer.
constexpr const char* kNotSureMessage =
    "I'm not sure about that one, and I'd rather not guess. A coach can answer it: type \"talk to a coach\".";

struct KnowledgeOptions {
  std::string content_dir = "./content";
  std::string question;
  bool jsonl = false;
};

void AddContentOption(CLI::App& command, KnowledgeOptions& options) {
  command.add_option("--content", options.content_dir, "Content directory (topics/, synonyms.txt, plans/)")
      ->envname("COACHBOT_CONTENT")
      ->capture_default_str();
}

// Broken content is the author's to fix: print file:line and exit 1, never a stack trace or half an index.
std::unique_ptr<knowledge::KnowledgeBase> LoadOrExit(const std::string& content_dir, const char* command) {
  try {
    return knowledge::KnowledgeBase::FromDirectory(content_dir);
  } catch (const std::exception& error) {
    std::cerr << "coachbot " << command << ": " << error.what() << "\n";
    throw CLI::RuntimeError(1);
  }
}

void RunIndex(const KnowledgeOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const auto knowledge = LoadOrExit(options.content_dir, "index");
  const auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  const auto& content = knowledge->content();
  std::size_t questions = 0;
  for (const auto& topic : content.topics) questions += topic.questions.size();
  std::cout << "content: " << options.content_dir << "\n"
            << "topics: " << knowledge->index().topic_count() << "\n"
            << "entries: " << knowledge->index().entry_count() << " (" << questions
            << " example questions plus title, tags, summary and body per topic)\n"
            << "words: " << knowledge->index().vocabulary_size() << "\n"
            << "synonym groups: " << content.synonyms.groups().size() << "\n"
            << "plan weeks: " << content.plans_by_week.size() << "\n"
            << "built in " << static_cast<long>(elapsed.count() + 0.5) << " ms\n";
}

nlohmann::ordered_json AskJson(const knowledge::KnowledgeBase& knowledge, const std::string& text) {
  const auto decision = knowledge.Decide(text);
  nlohmann::ordered_json answer = nullptr;
  nlohmann::ordered_json topic = nullptr;
  if (decision.topic_id) {
    topic = *decision.topic_id;
    if (const auto* found = knowledge.FindTopic(*decision.topic_id)) answer = knowledge.AnswerText(*found);
  }
  return {{"topic", topic}, {"score", decision.score}, {"answer", answer}};
}

void RunAsk(const KnowledgeOptions& options) {
  const auto knowledge = LoadOrExit(options.content_dir, "ask");
  if (!options.jsonl) {
    const auto answer = knowledge->Answer(options.question);
    std::cout << (answer ? answer->text : kNotSureMessage) << "\n";
    return;
  }
  // One output line per input line, in order; a malformed line gets an error object rather than ending the run.
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::ordered_json output;
    try {
      const auto input = nlohmann::json::parse(line);
      if (!input.is_object() || !input.contains("text") || !input.at("text").is_string()) {
        throw std::invalid_argument("expected {\"text\": \"...\"}");
      }
      output = AskJson(*knowledge, input.at("text").get<std::string>());
    } catch (const std::exception& error) {
      output = {{"topic", nullptr}, {"score", 0}, {"answer", nullptr}, {"error", error.what()}};
    }
    std::cout << output.dump() << "\n" << std::flush;
  }
}

}  // namespace

void AddIndexCommand(CLI::App& app) {
  auto options = std::make_shared<KnowledgeOptions>();
  auto* command = app.add_subcommand(
      "index",
      "Load and validate the coaching content, build the FAQ index and print what it holds (exit 1 with "
      "file:line on broken content)");
  AddContentOption(*command, *options);
  command->callback([options] { RunIndex(*options); });
}

void AddAskCommand(CLI::App& app) {
  auto options = std::make_shared<KnowledgeOptions>();
  auto* command =
      app.add_subcommand("ask", "Answer a coaching question from the content, or say honestly that it is not sure");
  AddContentOption(*command, *options);
  command->add_option("question", options->question, "The question, in the runner's own words");
  command->add_flag("--jsonl", options->jsonl,
                    "Read {\"text\": ...} lines on stdin, write {\"topic\", \"score\", \"answer\"} lines in order");
  command->callback([options] {
    // Exit 2, the usual code for wrong usage, with a usage line: a script that forgot the question must not read
    // an empty answer as "not sure".
    if (!options->jsonl && options->question.find_first_not_of(" \t\r\n") == std::string::npos) {
      std::cerr << "coachbot ask: no question given\n"
                << "usage: coachbot ask [--content DIR] \"QUESTION\"\n"
                << "       coachbot ask [--content DIR] --jsonl < questions.jsonl\n";
      throw CLI::RuntimeError(2);
    }
    RunAsk(*options);
  });
}

}  // namespace coach::adapters::cli
