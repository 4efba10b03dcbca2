#pragma once

#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "knowledge/plan.h"
#include "knowledge/synonyms.h"
#include "knowledge/text_speak.h"

namespace coach::knowledge {

/// Broken content: the message starts with "file:line: " so that an author can jump straight to the fault.
class ContentError : public std::runtime_error {
 public:
  ContentError(const std::filesystem::path& file, int line, const std::string& message);
  const std::filesystem::path& file() const { return file_; }
  int line() const { return line_; }

 private:
  std::filesystem::path file_;
  int line_;
};

/// One coaching topic, from content/topics/<id>.md.
struct Topic {
  std::string id;
  std::string title;
  std::vector<std::string> tags;
  std::vector<std::string> questions;  ///< example questions, in the runners' own wording
  std::string summary;                 ///< the direct answer to the most common question
  std::string body;                    ///< chat-ready plain text (cmark output, lists as "• " lines)
  std::filesystem::path file;
  int id_line = 0;  ///< line of `id:` in the file, for errors that involve other files
};

/// What a content folder must hold; the defaults are the product's (issue 3), tests narrow them for fixtures.
struct ContentRules {
  std::vector<std::string> topic_ids;  ///< exactly these topics, each once
  int min_questions = 8;
  /// The product's rules: the 17 topic ids of issue 3 and at least 8 example questions each.
  static ContentRules Product();
};

/// Everything the knowledge base serves, validated as a whole.
struct Content {
  std::vector<Topic> topics;  ///< in the order of ContentRules::topic_ids
  SynonymTable synonyms;
  std::map<int, RecoveryPlan> plans_by_week;  ///< 1 and 2
  PlanVariations variations;
  TextSpeak text_speak;  ///< from text_speak.txt; empty when the folder has none
};

/// Loads and validates `dir` (topics/*.md, synonyms.txt, plans/*.json and, if present,
/// text_speak.txt). All or nothing: the first fault throws
/// ContentError naming file and line, so that a server never starts with half its content.
Content LoadContent(const std::filesystem::path& dir, const ContentRules& rules = ContentRules::Product());

/// Parses one topic file's text (front matter plus Markdown body); `file` only names it in errors.
Topic ParseTopic(const std::string& text, const std::filesystem::path& file, int min_questions);

}  // namespace coach::knowledge
