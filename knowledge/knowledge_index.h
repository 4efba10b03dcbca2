#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "knowledge/content.h"
#include "knowledge/query_builder.h"

struct sqlite3;
struct sqlite3_stmt;

namespace coach::knowledge {

/// One ranked topic; `score` is -bm25 (higher is better, 0 = nothing matched).
struct SearchHit {
  std::string topic_id;
  double score = 0;
  /// Share of the question's information this topic explains: the IDF-weighted fraction of the question's terms
  /// found in the topic, where a word no topic contains weighs like a word in one topic ("carbs" in a nutrition
  /// question), a number no topic contains and a term every topic contains weigh nothing. 0..1; 0 when the question
  /// has no informative term.
  double coverage = 0;
};

/// BM25 weight per indexed column. Tags weigh most: authors list there the words that belong to one topic only.
/// Example questions weigh less than they did when only the best question row counted (3.0): in the topic row they
/// now add up over all of a topic's questions. Measured on leave-questions-out accuracy (knowledge_evaluation_test).
struct ColumnWeights {
  double title = 4.0;
  double questions = 1.5;
  double tags = 6.0;
  double summary = 1.5;
  double body = 1.0;
};

/// What one FTS5 row holds. Topic rows: one row per topic with every column. Question rows: one row per example
/// question (questions column only) plus one per topic for title, tags, summary and body; a topic scores its best
/// question row plus its topic row, so that one close example question counts more than many loose ones.
/// kQuestionAndTopicRows: question rows as kQuestionRows, and the topic row also holds all its example questions, so
/// that words spread over many of a topic's questions count even when no single question holds them all.
enum class IndexLayout { kTopicRows, kQuestionRows, kQuestionAndTopicRows };

/// Where a question is ranked. kInMemory reads the FTS5 index's postings (fts5vocab) once at build and scores them
/// with FTS5's own bm25 formula in memory: SQLite's per-row bm25 callbacks over hundreds of rows were the largest cost
/// of a server message. kSqlite runs the MATCH query itself; it is the reference the in-memory ranking is tested
/// against (same hits, same scores).
enum class Ranking { kInMemory, kSqlite };

/// How the index is built; the defaults are the measured best (knowledge_evaluation_test.cpp).
struct IndexOptions {
  ColumnWeights weights;
  IndexLayout layout = IndexLayout::kQuestionAndTopicRows;
  /// Concept tokens: a question naming a cause ("reasons", "what makes") no longer scores the causes topic once per
  /// synonym it happens to use, which took questions that merely said "cause" away from their topic.
  SynonymMode synonyms = SynonymMode::kConceptTokens;
  /// Coverage weight of a question term no topic contains, relative to a term found in exactly one topic.
  /// Below 1 because such words are often chat filler ("mate", "anyway"); above 0 because in an off-topic question
  /// they are the subject ("carbs", "podcast").
  double unknown_term_weight = 1.0;
  Ranking ranking = Ranking::kInMemory;
};

/// The topics in an in-memory SQLite FTS5 table (porter stemming over unicode61), one row per topic with the
/// columns title, questions, tags, summary and body, ranked by weighted BM25. Built once at startup.
/// Thread-safe: one connection (opened without SQLite's own locking) behind a mutex.
class KnowledgeIndex {
 public:
  explicit KnowledgeIndex(const Content& content, IndexOptions options = {});
  ~KnowledgeIndex();
  KnowledgeIndex(const KnowledgeIndex&) = delete;
  KnowledgeIndex& operator=(const KnowledgeIndex&) = delete;

  /// The best `limit` topics for the question, best first; empty when no word of it is in the content or when it
  /// is about another body part or subject only (ScopeCheck). Chat shorthand is spelled out first (TextSpeak). In a
  /// question of several sentences the last one (the asking one) is searched again and its score added.
  std::vector<SearchHit> Search(std::string_view question, int limit = 3) const;
  /// The last sentence of `text` when it has three words or more and `text` has sentences before it, else `text`.
  static std::string_view LastSentence(std::string_view text);
  /// Runs a raw MATCH expression (for tests of the query building); throws std::runtime_error on SQL errors.
  /// The hits carry no coverage.
  std::vector<SearchHit> SearchExpression(const std::string& match_expression, int limit) const;

  /// The topics that contain any alternative of `term`.
  std::vector<std::string> TopicsWith(const QueryTerm& term) const;

  const QueryBuilder& query_builder() const { return *query_builder_; }
  std::size_t topic_count() const { return topic_count_; }
  std::size_t entry_count() const { return entry_count_; }  ///< indexed text fields (title, questions, ...)
  std::size_t vocabulary_size() const { return vocabulary_size_; }

 private:
  struct Postings;
  std::vector<SearchHit> SearchText(std::string_view question, int limit) const;
  /// The rows and columns where `phrase` (one alternative of a term) occurs, one entry per occurrence, by row.
  std::vector<std::pair<std::uint32_t, std::uint8_t>> Occurrences(const std::string& phrase) const;
  /// FTS5's bm25 over the postings for the phrases (in order), summed per topic like SearchExpression.
  std::vector<SearchHit> RankInMemory(
      const std::vector<std::vector<std::pair<std::uint32_t, std::uint8_t>>>& phrase_occurrences, int limit) const;
  void LoadPostings(const ColumnWeights& weights);

  sqlite3* database_ = nullptr;
  sqlite3_stmt* search_statement_ = nullptr;
  sqlite3_stmt* term_statement_ = nullptr;
  mutable std::mutex mutex_;  ///< guards the connection, its statements, the term cache and the tokenizer
  Ranking ranking_ = Ranking::kInMemory;
  std::unique_ptr<Postings> postings_;
  /// Which topics contain a term (by its MATCH expression): runners reuse the same words, and the lookup is a
  /// full scan of the term's rows.
  mutable std::unordered_map<std::string, std::vector<std::string>> topics_by_term_;
  std::unique_ptr<QueryBuilder> query_builder_;
  TextSpeak text_speak_;
  std::size_t topic_count_ = 0;
  std::size_t entry_count_ = 0;
  std::size_t vocabulary_size_ = 0;
  double unknown_term_weight_ = 1.0;
};

}  // namespace coach::knowledge
