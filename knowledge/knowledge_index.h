#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
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
};

/// BM25 weight per indexed column; titles and example questions say more about a topic than its body.
struct ColumnWeights {
  double title = 4.0;
  double questions = 3.0;
  double tags = 3.0;
  double summary = 1.5;
  double body = 1.0;
};

/// The topics in an in-memory SQLite FTS5 table (porter stemming over unicode61), one row per topic with the
/// columns title, questions, tags, summary and body, ranked by weighted BM25. Built once at startup.
/// Thread-safe: one connection behind a mutex (a query takes microseconds).
class KnowledgeIndex {
 public:
  KnowledgeIndex(const Content& content, ColumnWeights weights = {});
  ~KnowledgeIndex();
  KnowledgeIndex(const KnowledgeIndex&) = delete;
  KnowledgeIndex& operator=(const KnowledgeIndex&) = delete;

  /// The best `limit` topics for the question, best first; empty when no word of it is in the content.
  std::vector<SearchHit> Search(std::string_view question, int limit = 3) const;
  /// Runs a raw MATCH expression (for tests of the query building); throws std::runtime_error on SQL errors.
  std::vector<SearchHit> SearchExpression(const std::string& match_expression, int limit) const;

  const QueryBuilder& query_builder() const { return *query_builder_; }
  std::size_t topic_count() const { return topic_count_; }
  std::size_t entry_count() const { return entry_count_; }  ///< indexed text fields (title, questions, ...)
  std::size_t vocabulary_size() const { return vocabulary_size_; }

 private:
  sqlite3* database_ = nullptr;
  sqlite3_stmt* search_statement_ = nullptr;
  mutable std::mutex mutex_;
  std::unique_ptr<QueryBuilder> query_builder_;
  std::size_t topic_count_ = 0;
  std::size_t entry_count_ = 0;
  std::size_t vocabulary_size_ = 0;
};

}  // namespace coach::knowledge
