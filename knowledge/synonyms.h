#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace coach::knowledge {

/// Groups of words that mean the same to a runner ("shoes, trainers, sneakers"), kept as data in
/// content/synonyms.txt so that authors, not programmers, extend them. A term may be several words ("lumbar belt").
class SynonymTable {
 public:
  /// One group per line, comma separated, first = canonical; blank lines and "#" comments are skipped.
  /// Throws ContentError (file:line) for a group of fewer than two terms or a term listed twice.
  static SynonymTable Parse(const std::string& text, const std::filesystem::path& file);

  /// The group that holds `term` (lower case, words separated by single spaces), or nullptr.
  const std::vector<std::string>* GroupOf(std::string_view term) const;
  /// The most words any term has, so that a query scanner knows how far to look ahead.
  std::size_t longest_term_words() const { return longest_term_words_; }
  /// The most words of a term that starts with `word`; 0 when no term does (most words of a question), so that a
  /// scanner skips the phrase lookups there.
  std::size_t LongestTermStartingWith(const std::string& word) const;
  const std::vector<std::vector<std::string>>& groups() const { return groups_; }

 private:
  std::vector<std::vector<std::string>> groups_;
  std::unordered_map<std::string, std::size_t> group_by_term_;
  std::size_t longest_term_words_ = 0;
  std::unordered_map<std::string, std::size_t> longest_by_first_word_;
};

}  // namespace coach::knowledge
