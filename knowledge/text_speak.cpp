#include "knowledge/text_speak.h"

#include <sstream>

#include "knowledge/content.h"
#include "knowledge/query_builder.h"

namespace coach::knowledge {
namespace {

bool IsWordCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '\'';
}

std::string JoinedWords(const std::string& text) {
  std::string joined;
  for (const auto& word : QueryBuilder::Words(text)) joined += (joined.empty() ? "" : " ") + word;
  return joined;
}

}  // namespace

TextSpeak TextSpeak::Parse(const std::string& text, const std::filesystem::path& file) {
  TextSpeak table;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const auto comment = line.find('#');
    if (comment != std::string::npos) line.erase(comment);
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto equals = line.find('=');
    if (equals == std::string::npos) throw ContentError(file, number, "expected 'shorthand = plain words'");
    const auto shorthand_words = QueryBuilder::Words(line.substr(0, equals));
    const std::string plain = JoinedWords(line.substr(equals + 1));
    if (shorthand_words.size() != 1) throw ContentError(file, number, "the shorthand must be one word");
    if (plain.empty()) throw ContentError(file, number, "the plain words are missing");
    if (!table.plain_by_shorthand_.emplace(shorthand_words[0], plain).second) {
      throw ContentError(file, number, "'" + shorthand_words[0] + "' is listed twice");
    }
  }
  return table;
}

std::string TextSpeak::Normalise(std::string_view question) const {
  if (plain_by_shorthand_.empty()) return std::string(question);
  std::string normalised;
  normalised.reserve(question.size() + 16);
  std::size_t i = 0;
  while (i < question.size()) {
    if (!IsWordCharacter(question[i])) {
      normalised += question[i++];
      continue;
    }
    std::size_t end = i;
    std::string lower;
    while (end < question.size() && IsWordCharacter(question[end])) {
      const char c = question[end++];
      if (c != '\'') lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    // A word glued to letters beyond ASCII ("café") is not shorthand.
    const bool whole = (end >= question.size() || static_cast<unsigned char>(question[end]) < 0x80) &&
                       (i == 0 || static_cast<unsigned char>(question[i - 1]) < 0x80);
    const auto plain = whole ? plain_by_shorthand_.find(lower) : plain_by_shorthand_.end();
    normalised += plain != plain_by_shorthand_.end() ? std::string_view(plain->second) : question.substr(i, end - i);
    i = end;
  }
  return normalised;
}

}  // namespace coach::knowledge
