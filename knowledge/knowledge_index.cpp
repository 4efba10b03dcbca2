#include "knowledge/knowledge_index.h"

#include <sqlite3.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace coach::knowledge {
namespace {

void Check(sqlite3* database, int code, const char* what) {
  if (code != SQLITE_OK && code != SQLITE_DONE && code != SQLITE_ROW) {
    throw std::runtime_error(std::string("knowledge index: ") + what + ": " + sqlite3_errmsg(database));
  }
}

struct Statement {
  sqlite3_stmt* handle = nullptr;
  Statement(sqlite3* database, const std::string& sql) {
    Check(database, sqlite3_prepare_v2(database, sql.c_str(), -1, &handle, nullptr), "prepare");
  }
  ~Statement() { sqlite3_finalize(handle); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
};

std::string Join(const std::vector<std::string>& items, const char* separator) {
  std::string joined;
  for (const auto& item : items) joined += (joined.empty() ? "" : separator) + item;
  return joined;
}

void BindText(sqlite3* database, sqlite3_stmt* statement, int index, const std::string& text) {
  Check(database, sqlite3_bind_text(statement, index, text.c_str(), static_cast<int>(text.size()), SQLITE_TRANSIENT),
        "bind");
}

}  // namespace

KnowledgeIndex::KnowledgeIndex(const Content& content, ColumnWeights weights) {
  Check(nullptr, sqlite3_open_v2(":memory:", &database_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr), "open");
  try {
    Check(database_,
          sqlite3_exec(database_,
                       "CREATE VIRTUAL TABLE topics USING fts5(topic_id UNINDEXED, title, questions, tags, summary, "
                       "body, tokenize = 'porter unicode61 remove_diacritics 2')",
                       nullptr, nullptr, nullptr),
          "create table");
    Check(database_, sqlite3_exec(database_, "BEGIN", nullptr, nullptr, nullptr), "begin");
    {
      Statement insert(
          database_, "INSERT INTO topics (topic_id, title, questions, tags, summary, body) VALUES (?, ?, ?, ?, ?, ?)");
      std::vector<std::string> vocabulary;
      for (const auto& topic : content.topics) {
        const std::string fields[] = {topic.id,      topic.title, Join(topic.questions, "\n"), Join(topic.tags, ", "),
                                      topic.summary, topic.body};
        for (int column = 0; column < 6; ++column) BindText(database_, insert.handle, column + 1, fields[column]);
        Check(database_, sqlite3_step(insert.handle), "insert");
        sqlite3_reset(insert.handle);
        for (int column = 1; column < 6; ++column) {
          for (auto& word : QueryBuilder::Words(fields[column])) vocabulary.push_back(std::move(word));
        }
        entry_count_ += 4 + topic.questions.size();  // title, tags, summary, body and each example question
      }
      topic_count_ = content.topics.size();
      query_builder_ = std::make_unique<QueryBuilder>(content.synonyms, vocabulary);
      std::sort(vocabulary.begin(), vocabulary.end());
      vocabulary_size_ =
          static_cast<std::size_t>(std::unique(vocabulary.begin(), vocabulary.end()) - vocabulary.begin());
    }
    Check(database_, sqlite3_exec(database_, "COMMIT", nullptr, nullptr, nullptr), "commit");
    // Weights go into the SQL text: bm25() wants constants, and they never change after startup.
    std::ostringstream sql;
    sql << "SELECT topic_id, -bm25(topics, 0, " << weights.title << ", " << weights.questions << ", " << weights.tags
        << ", " << weights.summary << ", " << weights.body << ") AS score FROM topics WHERE topics MATCH ? "
        << "ORDER BY score DESC LIMIT ?";
    Check(database_, sqlite3_prepare_v2(database_, sql.str().c_str(), -1, &search_statement_, nullptr), "prepare");
  } catch (...) {
    sqlite3_close(database_);
    throw;
  }
}

KnowledgeIndex::~KnowledgeIndex() {
  sqlite3_finalize(search_statement_);
  sqlite3_close(database_);
}

std::vector<SearchHit> KnowledgeIndex::Search(std::string_view question, int limit) const {
  const std::string expression = QueryBuilder::MatchExpression(query_builder_->Terms(question));
  if (expression.empty()) return {};
  return SearchExpression(expression, limit);
}

std::vector<SearchHit> KnowledgeIndex::SearchExpression(const std::string& match_expression, int limit) const {
  std::lock_guard<std::mutex> lock(mutex_);
  sqlite3_reset(search_statement_);
  BindText(database_, search_statement_, 1, match_expression);
  Check(database_, sqlite3_bind_int(search_statement_, 2, limit), "bind");
  std::vector<SearchHit> hits;
  int code = SQLITE_ROW;
  while ((code = sqlite3_step(search_statement_)) == SQLITE_ROW) {
    hits.push_back({reinterpret_cast<const char*>(sqlite3_column_text(search_statement_, 0)),
                    sqlite3_column_double(search_statement_, 1)});
  }
  const std::string error = code == SQLITE_DONE ? "" : sqlite3_errmsg(database_);
  sqlite3_reset(search_statement_);
  sqlite3_clear_bindings(search_statement_);
  if (!error.empty()) throw std::runtime_error("knowledge index: search: " + error);
  return hits;
}

}  // namespace coach::knowledge
