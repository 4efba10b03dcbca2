#include "knowledge/synonyms.h"

#include <algorithm>
#include <sstream>

#include "knowledge/content.h"
#include "knowledge/query_builder.h"

namespace coach::knowledge {

SynonymTable SynonymTable::Parse(const std::string& text, const std::filesystem::path& file) {
  SynonymTable table;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  std::unordered_map<std::string, int> line_by_term;
  while (std::getline(in, line)) {
    ++number;
    const auto comment = line.find('#');
    if (comment != std::string::npos) line.erase(comment);
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;

    std::vector<std::string> group;
    std::istringstream entries(line);
    std::string entry;
    while (std::getline(entries, entry, ',')) {
      // Terms are stored as the query builder sees words, so that lookups match whatever the punctuation.
      std::string term;
      for (const auto& word : QueryBuilder::Words(entry)) term += (term.empty() ? "" : " ") + word;
      if (term.empty()) throw ContentError(file, number, "empty synonym (two commas in a row?)");
      const auto [previous, inserted] = line_by_term.emplace(term, number);
      if (!inserted) {
        throw ContentError(file, number,
                           "'" + term + "' is already in the group on line " + std::to_string(previous->second));
      }
      group.push_back(term);
    }
    if (group.size() < 2) throw ContentError(file, number, "a synonym group needs at least two terms");
    for (const auto& term : group) {
      table.group_by_term_.emplace(term, table.groups_.size());
      const std::size_t words = 1 + static_cast<std::size_t>(std::count(term.begin(), term.end(), ' '));
      table.longest_term_words_ = std::max(table.longest_term_words_, words);
      std::size_t& longest = table.longest_by_first_word_[term.substr(0, term.find(' '))];
      longest = std::max(longest, words);
    }
    table.groups_.push_back(std::move(group));
  }
  return table;
}

std::size_t SynonymTable::LongestTermStartingWith(const std::string& word) const {
  const auto found = longest_by_first_word_.find(word);
  return found == longest_by_first_word_.end() ? 0 : found->second;
}

const std::vector<std::string>* SynonymTable::GroupOf(std::string_view term) const {
  const auto found = group_by_term_.find(std::string(term));
  return found == group_by_term_.end() ? nullptr : &groups_[found->second];
}

}  // namespace coach::knowledge
