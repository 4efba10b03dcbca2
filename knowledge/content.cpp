#include "knowledge/content.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "knowledge/markdown_text.h"

namespace coach::knowledge {
namespace {

std::string ReadFile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ContentError(file, 0, "cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// Front matter sits between a first line "---" and the next line "---"; YAML marks count from the line after
// the opening one, hence the offset of 2 (marks are zero-based, file lines one-based).
constexpr int kFrontMatterLineOffset = 2;

struct TopicFile {
  std::string front_matter;
  std::string body;
  int body_first_line = 0;
};

TopicFile SplitFrontMatter(const std::string& text, const std::filesystem::path& file) {
  std::istringstream in(text);
  std::string line;
  int number = 0;
  if (!std::getline(in, line) || Trim(line) != "---") {
    throw ContentError(file, 1, "expected front matter: the first line must be ---");
  }
  ++number;
  TopicFile parts;
  bool closed = false;
  while (std::getline(in, line)) {
    ++number;
    if (Trim(line) == "---" && (line.rfind("---", 0) == 0)) {
      closed = true;
      break;
    }
    parts.front_matter += line + "\n";
  }
  if (!closed) throw ContentError(file, number, "front matter is not closed: no second --- line");
  parts.body_first_line = number + 1;
  std::ostringstream body;
  body << in.rdbuf();
  parts.body = body.str();
  return parts;
}

int LineOf(const YAML::Node& node) {
  return node.Mark().line + kFrontMatterLineOffset;
}

std::string RequireString(const YAML::Node& map, const char* key, const std::filesystem::path& file,
                          int fallback_line) {
  const YAML::Node node = map[key];
  if (!node) throw ContentError(file, fallback_line, std::string("missing field '") + key + "'");
  if (!node.IsScalar()) throw ContentError(file, LineOf(node), std::string("field '") + key + "' must be text");
  std::string value = Trim(node.as<std::string>());
  if (value.empty()) throw ContentError(file, LineOf(node), std::string("field '") + key + "' is empty");
  return value;
}

std::vector<std::string> RequireStringList(const YAML::Node& map, const char* key, const std::filesystem::path& file,
                                           int fallback_line) {
  const YAML::Node node = map[key];
  if (!node) throw ContentError(file, fallback_line, std::string("missing field '") + key + "'");
  if (!node.IsSequence()) {
    throw ContentError(file, LineOf(node), std::string("field '") + key + "' must be a list");
  }
  std::vector<std::string> values;
  for (const auto& item : node) {
    if (!item.IsScalar() || Trim(item.as<std::string>()).empty()) {
      throw ContentError(file, LineOf(item), std::string("every entry of '") + key + "' must be non-empty text");
    }
    values.push_back(Trim(item.as<std::string>()));
  }
  return values;
}

}  // namespace

ContentError::ContentError(const std::filesystem::path& file, int line, const std::string& message)
    : std::runtime_error(file.string() + ":" + std::to_string(line) + ": " + message), file_(file), line_(line) {}

ContentRules ContentRules::Product() {
  ContentRules rules;
  rules.topic_ids = {
      "causes",          "serious_signs",     "form",         "fixes_core",   "stretches", "shoes",    "foam_rolling",
      "mobility_drills", "running_with_pain", "stop_running", "healing_time", "brace",     "beginner", "distance",
      "older_returning", "self_check",        "recovery_plan"};
  rules.min_questions = 8;
  return rules;
}

Topic ParseTopic(const std::string& text, const std::filesystem::path& file, int min_questions) {
  const TopicFile parts = SplitFrontMatter(text, file);
  YAML::Node front;
  try {
    front = YAML::Load(parts.front_matter);
  } catch (const YAML::Exception& error) {
    throw ContentError(file, error.mark.line + kFrontMatterLineOffset, "bad YAML in front matter: " + error.msg);
  }
  if (!front.IsMap()) throw ContentError(file, 2, "front matter must be a YAML mapping (key: value lines)");

  Topic topic;
  topic.file = file;
  topic.id = RequireString(front, "id", file, 2);
  topic.id_line = LineOf(front["id"]);
  if (!std::regex_match(topic.id, std::regex("[a-z][a-z0-9_]*"))) {
    throw ContentError(file, LineOf(front["id"]), "id '" + topic.id + "' must be lower case letters, digits and _");
  }
  topic.title = RequireString(front, "title", file, 2);
  topic.tags = RequireStringList(front, "tags", file, 2);
  topic.questions = RequireStringList(front, "questions", file, 2);
  if (static_cast<int>(topic.questions.size()) < min_questions) {
    throw ContentError(file, LineOf(front["questions"]),
                       "only " + std::to_string(topic.questions.size()) + " example questions, at least " +
                           std::to_string(min_questions) + " are needed");
  }
  topic.summary = RequireString(front, "summary", file, 2);
  topic.body = MarkdownToChatText(parts.body);
  if (topic.body.empty()) throw ContentError(file, parts.body_first_line, "the Markdown body is empty");
  return topic;
}

Content LoadContent(const std::filesystem::path& dir, const ContentRules& rules) {
  if (!std::filesystem::is_directory(dir)) throw ContentError(dir, 0, "content folder not found");
  const auto topics_dir = dir / "topics";
  if (!std::filesystem::is_directory(topics_dir)) throw ContentError(topics_dir, 0, "topics folder not found");

  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(topics_dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".md") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());

  std::map<std::string, Topic> topics_by_id;
  for (const auto& file : files) {
    Topic topic = ParseTopic(ReadFile(file), file, rules.min_questions);
    if (std::find(rules.topic_ids.begin(), rules.topic_ids.end(), topic.id) == rules.topic_ids.end()) {
      throw ContentError(file, topic.id_line, "unknown topic id '" + topic.id + "'");
    }
    const auto [existing, inserted] = topics_by_id.emplace(topic.id, topic);
    if (!inserted) {
      throw ContentError(file, topic.id_line,
                         "duplicate topic id '" + topic.id + "', also in " + existing->second.file.string());
    }
    if (file.stem() != topic.id) {
      throw ContentError(file, topic.id_line, "topic id '" + topic.id + "' does not match the file name");
    }
  }

  Content content;
  for (const auto& id : rules.topic_ids) {
    auto found = topics_by_id.find(id);
    if (found == topics_by_id.end()) throw ContentError(topics_dir / (id + ".md"), 0, "missing topic '" + id + "'");
    content.topics.push_back(std::move(found->second));
  }

  const auto synonyms_file = dir / "synonyms.txt";
  content.synonyms = SynonymTable::Parse(ReadFile(synonyms_file), synonyms_file);
  if (const auto text_speak_file = dir / "text_speak.txt"; std::filesystem::exists(text_speak_file)) {
    content.text_speak = TextSpeak::Parse(ReadFile(text_speak_file), text_speak_file);
  }

  for (int week : {1, 2}) {
    const auto plan_file = dir / "plans" / ("recovery_week" + std::to_string(week) + ".json");
    content.plans_by_week.emplace(week, ParsePlan(ReadFile(plan_file), plan_file));
  }
  const auto variations_file = dir / "plans" / "variations.json";
  content.variations = ParsePlanVariations(ReadFile(variations_file), variations_file, content.plans_by_week);
  return content;
}

}  // namespace coach::knowledge
