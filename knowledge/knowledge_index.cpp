#include "knowledge/knowledge_index.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <stdexcept>

#include "knowledge/scope_check.h"

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

// Enough for every word of the content and the common typos many times over; cleared when full, so that a flood of
// made-up words cannot grow it without bound.
constexpr std::size_t kMaxCachedTerms = 20000;

// Best first; ties go to the topic id, so that equal scores always rank the same way.
void SortHits(std::vector<SearchHit>& hits) {
  std::sort(hits.begin(), hits.end(), [](const SearchHit& a, const SearchHit& b) {
    return a.score != b.score ? a.score > b.score : a.topic_id < b.topic_id;
  });
}

}  // namespace

KnowledgeIndex::KnowledgeIndex(const Content& content, IndexOptions options) {
  const ColumnWeights& weights = options.weights;
  unknown_term_weight_ = options.unknown_term_weight;
  Check(nullptr,
        sqlite3_open_v2(":memory:", &database_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr),
        "open");
  try {
    Check(database_,
          sqlite3_exec(database_,
                       "CREATE VIRTUAL TABLE topics USING fts5(topic_id UNINDEXED, question_row UNINDEXED, title, "
                       "questions, tags, summary, body, tokenize = 'porter unicode61 remove_diacritics 2')",
                       nullptr, nullptr, nullptr),
          "create table");
    Check(database_, sqlite3_exec(database_, "BEGIN", nullptr, nullptr, nullptr), "begin");
    {
      Statement insert(database_,
                       "INSERT INTO topics (topic_id, question_row, title, questions, tags, summary, body) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)");
      std::vector<std::string> vocabulary;
      for (const auto& topic : content.topics) {
        for (const std::string* field : {&topic.title, &topic.summary, &topic.body}) {
          for (auto& word : QueryBuilder::Words(*field)) vocabulary.push_back(std::move(word));
        }
        for (const auto* list : {&topic.questions, &topic.tags}) {
          for (const auto& item : *list) {
            for (auto& word : QueryBuilder::Words(item)) vocabulary.push_back(std::move(word));
          }
        }
      }
      query_builder_ = std::make_unique<QueryBuilder>(content.synonyms, vocabulary, options.synonyms);
      std::sort(vocabulary.begin(), vocabulary.end());
      vocabulary_size_ =
          static_cast<std::size_t>(std::unique(vocabulary.begin(), vocabulary.end()) - vocabulary.begin());

      for (const auto& topic : content.topics) {
        std::vector<std::string> questions;
        for (const auto& question : topic.questions) questions.push_back(query_builder_->IndexedText(question));
        std::vector<std::string> tags;
        for (const auto& tag : topic.tags) tags.push_back(query_builder_->IndexedText(tag));
        auto insert_row = [&](bool question_row, const std::string& title, const std::string& questions_text,
                              const std::string& tags_text, const std::string& summary, const std::string& body) {
          const std::string fields[] = {topic.id, question_row ? "1" : "0", title, questions_text, tags_text, summary,
                                        body};
          for (int column = 0; column < 7; ++column) BindText(database_, insert.handle, column + 1, fields[column]);
          Check(database_, sqlite3_step(insert.handle), "insert");
          sqlite3_reset(insert.handle);
        };
        const std::string title = query_builder_->IndexedText(topic.title);
        const std::string summary = query_builder_->IndexedText(topic.summary);
        const std::string body = query_builder_->IndexedText(topic.body);
        if (options.layout == IndexLayout::kTopicRows) {
          insert_row(false, title, Join(questions, "\n"), Join(tags, ", "), summary, body);
        } else {
          insert_row(false, title, options.layout == IndexLayout::kQuestionAndTopicRows ? Join(questions, "\n") : "",
                     Join(tags, ", "), summary, body);
          for (const auto& question : questions) insert_row(true, "", question, "", "", "");
        }
        entry_count_ += 4 + topic.questions.size();  // title, tags, summary, body and each example question
      }
      topic_count_ = content.topics.size();
    }
    Check(database_, sqlite3_exec(database_, "COMMIT", nullptr, nullptr, nullptr), "commit");
    // Weights go into the SQL text: bm25() wants constants, and they never change after startup.
    std::ostringstream sql;
    sql << "SELECT topic_id, question_row, -bm25(topics, 0, 0, " << weights.title << ", " << weights.questions << ", "
        << weights.tags << ", " << weights.summary << ", " << weights.body << ") FROM topics WHERE topics MATCH ?";
    Check(database_, sqlite3_prepare_v2(database_, sql.str().c_str(), -1, &search_statement_, nullptr), "prepare");
    Check(database_,
          sqlite3_prepare_v2(database_, "SELECT DISTINCT topic_id FROM topics WHERE topics MATCH ?", -1,
                             &term_statement_, nullptr),
          "prepare");
  } catch (...) {
    sqlite3_close(database_);
    throw;
  }
}

KnowledgeIndex::~KnowledgeIndex() {
  sqlite3_finalize(search_statement_);
  sqlite3_finalize(term_statement_);
  sqlite3_close(database_);
}

std::vector<SearchHit> KnowledgeIndex::Search(std::string_view question, int limit) const {
  const std::string_view last = LastSentence(question);
  if (last.size() == question.size()) return SearchText(question, limit);
  std::vector<SearchHit> hits = SearchText(question, static_cast<int>(topic_count_));
  const std::vector<SearchHit> focus = SearchText(last, static_cast<int>(topic_count_));
  if (!hits.empty() && !focus.empty()) {
    // The asking sentence counts twice: the sentences before it are context ("since my long run on Sunday..."),
    // and their details would otherwise pull the question to whichever topic shares them. Its coverage counts too,
    // as context adds words no topic explains.
    for (auto& hit : hits) {
      for (const auto& focused : focus) {
        if (focused.topic_id != hit.topic_id) continue;
        hit.score += focused.score;
        hit.coverage = std::max(hit.coverage, focused.coverage);
      }
    }
    SortHits(hits);
  }
  if (hits.size() > static_cast<std::size_t>(std::max(limit, 0))) hits.resize(static_cast<std::size_t>(limit));
  return hits;
}

std::string_view KnowledgeIndex::LastSentence(std::string_view text) {
  std::size_t end = text.find_last_not_of(" \t\r\n.?!");
  if (end == std::string_view::npos) return text;
  const std::size_t start = text.substr(0, end).find_last_of(".?!\n");
  if (start == std::string_view::npos) return text;
  std::string_view sentence = text.substr(start + 1, end - start);
  while (!sentence.empty() && (sentence.front() == ' ' || sentence.front() == '\t' || sentence.front() == '\r')) {
    sentence.remove_prefix(1);
  }
  // A sentence of fewer than three words ("help", "any ideas") asks nothing of its own.
  return QueryBuilder::Words(sentence).size() < 3 ? text : sentence;
}

std::vector<SearchHit> KnowledgeIndex::SearchText(std::string_view question, int limit) const {
  const std::vector<std::string> words = QueryBuilder::Words(question);
  if (ScopeCheck::AboutOtherBodyPartOnly(words) || ScopeCheck::AboutOtherSubjectOnly(words)) return {};
  const std::vector<QueryTerm> terms = query_builder_->Terms(question);
  if (terms.empty()) return {};

  // BM25's own IDF over topics, floored at zero: a term in half the topics or more says nothing about which one fits.
  const double topics = static_cast<double>(topic_count_);
  const double single_topic_weight = std::log((topics - 1 + 0.5) / (1 + 0.5));
  std::vector<std::vector<std::string>> containing;
  std::vector<double> weights;
  // A term in every topic ("back", "pain") cannot tell topics apart, yet it would make FTS5 score nearly every row.
  std::vector<QueryTerm> distinguishing;
  for (const auto& term : terms) {
    containing.push_back(TopicsWith(term));
    const double frequency = static_cast<double>(containing.back().size());
    // A number-led word the content never mentions ("3x", "45min", "2nd") is a detail of the question.
    const bool number = !term.typed.empty() && term.typed[0] >= '0' && term.typed[0] <= '9';
    weights.push_back(containing.back().empty()
                          ? (number ? 0.0 : unknown_term_weight_ * single_topic_weight)
                          : std::max(0.0, std::log((topics - frequency + 0.5) / (frequency + 0.5))));
    if (!containing.back().empty() && containing.back().size() < topic_count_) distinguishing.push_back(term);
  }
  std::vector<SearchHit> hits =
      SearchExpression(QueryBuilder::MatchExpression(distinguishing.empty() ? terms : distinguishing), limit);

  double total_weight = 0;
  std::vector<double> matched_weight(hits.size(), 0.0);
  for (std::size_t t = 0; t < terms.size(); ++t) {
    total_weight += weights[t];
    for (std::size_t i = 0; i < hits.size(); ++i) {
      if (std::find(containing[t].begin(), containing[t].end(), hits[i].topic_id) != containing[t].end()) {
        matched_weight[i] += weights[t];
      }
    }
  }
  // Every term in half the topics or more ("lumbar pain in runners"): nothing in the question is unexplained.
  for (std::size_t i = 0; i < hits.size(); ++i) {
    hits[i].coverage = total_weight > 0 ? matched_weight[i] / total_weight : 1;
  }
  return hits;
}

std::vector<std::string> KnowledgeIndex::TopicsWith(const QueryTerm& term) const {
  const std::string expression = QueryBuilder::MatchExpression({term});
  std::lock_guard<std::mutex> lock(mutex_);
  if (const auto cached = topics_by_term_.find(expression); cached != topics_by_term_.end()) return cached->second;
  sqlite3_reset(term_statement_);
  BindText(database_, term_statement_, 1, expression);
  std::vector<std::string> topics;
  int code = SQLITE_ROW;
  while ((code = sqlite3_step(term_statement_)) == SQLITE_ROW) {
    topics.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(term_statement_, 0)));
  }
  const std::string error = code == SQLITE_DONE ? "" : sqlite3_errmsg(database_);
  sqlite3_reset(term_statement_);
  sqlite3_clear_bindings(term_statement_);
  if (!error.empty()) throw std::runtime_error("knowledge index: term lookup: " + error);
  if (topics_by_term_.size() >= kMaxCachedTerms) topics_by_term_.clear();
  topics_by_term_.emplace(expression, topics);
  return topics;
}

std::vector<SearchHit> KnowledgeIndex::SearchExpression(const std::string& match_expression, int limit) const {
  struct TopicScore {
    double best_question = 0;
    double topic = 0;
  };
  std::map<std::string, TopicScore> scores;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    sqlite3_reset(search_statement_);
    BindText(database_, search_statement_, 1, match_expression);
    int code = SQLITE_ROW;
    while ((code = sqlite3_step(search_statement_)) == SQLITE_ROW) {
      auto& score = scores[reinterpret_cast<const char*>(sqlite3_column_text(search_statement_, 0))];
      const double row_score = sqlite3_column_double(search_statement_, 2);
      if (sqlite3_column_int(search_statement_, 1) != 0) {
        score.best_question = std::max(score.best_question, row_score);
      } else {
        score.topic += row_score;
      }
    }
    const std::string error = code == SQLITE_DONE ? "" : sqlite3_errmsg(database_);
    sqlite3_reset(search_statement_);
    sqlite3_clear_bindings(search_statement_);
    if (!error.empty()) throw std::runtime_error("knowledge index: search: " + error);
  }
  std::vector<SearchHit> hits;
  for (const auto& [topic_id, score] : scores) hits.push_back({topic_id, score.best_question + score.topic, 0});
  SortHits(hits);
  if (hits.size() > static_cast<std::size_t>(std::max(limit, 0))) hits.resize(static_cast<std::size_t>(limit));
  return hits;
}

}  // namespace coach::knowledge
