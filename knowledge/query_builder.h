#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "knowledge/synonyms.h"

namespace coach::knowledge {

/// One concept of the question: the word (or phrase) the runner typed plus its synonyms and typo corrections,
/// matched as an OR group so that "trainers" finds a topic that says "shoes".
struct QueryTerm {
  std::string typed;
  std::vector<std::string> alternatives;  ///< `typed` first; every entry is one or more lower-case words
};

/// How synonyms reach BM25. Query expansion ORs every synonym into the query, so a topic that uses several of them
/// scores once per synonym; concept tokens add one token per synonym group to the indexed text and the query, so
/// that a group scores once with its own IDF. Both are measured in tests/knowledge/knowledge_evaluation_test.cpp.
enum class SynonymMode { kQueryExpansion, kConceptTokens };

/// Turns a free question into an FTS5 MATCH expression. Never emits FTS5 syntax from the runner's text: every
/// alternative is a double-quoted string built from letters and digits only, so `"brace" OR* (` is just words.
class QueryBuilder {
 public:
  /// `vocabulary`: every word of the indexed content, for typo correction (unknown words of five or more letters
  /// one edit away from a content word, eight or more letters two edits away; never a common English word).
  QueryBuilder(const SynonymTable& synonyms, const std::vector<std::string>& vocabulary,
               SynonymMode mode = SynonymMode::kConceptTokens);

  /// The question's terms: stop words dropped, synonyms and typo corrections added, duplicates merged.
  std::vector<QueryTerm> Terms(std::string_view question) const;
  /// `("a" OR "b c") OR ("d")`, or "" when the question has no searchable word.
  static std::string MatchExpression(const std::vector<QueryTerm>& terms);

  /// The text as the index stores it: its words, each synonym term followed by its group's concept token
  /// (kConceptTokens), or the words alone (kQueryExpansion).
  std::string IndexedText(std::string_view text) const;
  /// One made-up word per synonym group ("synshoes"), which no runner types.
  static std::string ConceptToken(const std::vector<std::string>& group);

  /// Lower-cased words of `text` (ASCII letters and digits, other UTF-8 letters kept whole), as the index sees them.
  static std::vector<std::string> Words(std::string_view text);
  static bool IsStopWord(std::string_view word);

 private:
  std::string Correct(const std::string& word) const;
  /// The content word that an unknown adverb or comparative is built on ("mildly" -> "mild", "stiffer" -> "stiff",
  /// "bigger" -> "big", "looser" -> "loose"), or "": porter stemming leaves these apart, and as unknown words they
  /// would count against every topic's coverage.
  std::string BaseForm(const std::string& word) const;

  /// The synonym group whose term starts at words[start] (longest term first) and the number of words it spans.
  std::pair<const std::vector<std::string>*, std::size_t> GroupAt(const std::vector<std::string>& words,
                                                                  std::size_t start) const;
  /// The "older" synonym group when words[at] is an age of 40 or more ("im 58", "aged 61", "45 years old").
  const std::vector<std::string>* AgeGroup(const std::vector<std::string>& words, std::size_t at) const;
  /// The alternatives a synonym group contributes to a query term, by mode.
  std::vector<std::string> GroupAlternatives(const std::vector<std::string>& group) const;

  const SynonymTable& synonyms_;
  SynonymMode mode_;
  std::unordered_set<std::string> vocabulary_;
  std::unordered_multimap<std::string, std::string> words_by_deletion_;  ///< symmetric-delete typo lookup
};

}  // namespace coach::knowledge
