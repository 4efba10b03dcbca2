#include "knowledge/knowledge_index.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

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

// A weight as the SQL text spells it (stream precision), so that the in-memory ranking multiplies by the very same
// double as FTS5's bm25().
double AsSqlSpellsIt(double weight) {
  std::ostringstream text;
  text << weight;
  return std::stod(text.str());
}

// FTS5's bm25() constants (fts5_aux.c).
constexpr double kBm25K1 = 1.2;
constexpr double kBm25B = 0.75;

// The indexed columns in table order, after topic_id and question_row.
constexpr const char* kIndexedColumns[] = {"title", "questions", "tags", "summary", "body"};

}  // namespace

/// The FTS5 index read back into memory: every token's occurrences (row, column, offset), each row's topic and length,
/// and the index's own porter tokenizer for the query's phrases.
struct KnowledgeIndex::Postings {
  struct Occurrence {
    std::uint32_t row = 0;
    std::uint8_t column = 0;  ///< index into kIndexedColumns
    std::uint32_t offset = 0;
    bool operator<(const Occurrence& other) const {
      if (row != other.row) return row < other.row;
      if (column != other.column) return column < other.column;
      return offset < other.offset;
    }
  };
  std::unordered_map<std::string, std::vector<Occurrence>> occurrences_by_token;  ///< sorted
  std::vector<std::string> row_topic;
  std::vector<std::uint32_t> row_topic_index;  ///< into topic_ids, so that topic sets are flags, not strings
  std::vector<std::string> topic_ids;
  std::vector<bool> row_is_question;
  std::vector<std::int64_t> row_tokens;
  std::int64_t total_tokens = 0;
  double column_weights[5] = {};
  fts5_tokenizer tokenizer_api{};
  Fts5Tokenizer* tokenizer = nullptr;

  ~Postings() {
    if (tokenizer != nullptr) tokenizer_api.xDelete(tokenizer);
  }

  /// The phrase's tokens as the index stores them (porter stems of unicode61 words).
  std::vector<std::string> Tokens(const std::string& phrase) const {
    std::vector<std::string> tokens;
    const auto collect = [](void* context, int, const char* token, int size, int, int) {
      static_cast<std::vector<std::string>*>(context)->emplace_back(token, static_cast<std::size_t>(size));
      return SQLITE_OK;
    };
    const int code = tokenizer_api.xTokenize(tokenizer, &tokens, FTS5_TOKENIZE_QUERY, phrase.data(),
                                             static_cast<int>(phrase.size()), collect);
    if (code != SQLITE_OK) throw std::runtime_error("knowledge index: cannot tokenize a query phrase");
    return tokens;
  }
};

KnowledgeIndex::KnowledgeIndex(const Content& content, IndexOptions options) {
  const ColumnWeights& weights = options.weights;
  unknown_term_weight_ = options.unknown_term_weight;
  text_speak_ = content.text_speak;
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
    ranking_ = options.ranking;
    if (ranking_ == Ranking::kInMemory) LoadPostings(weights);
  } catch (...) {
    postings_.reset();
    sqlite3_finalize(search_statement_);
    sqlite3_finalize(term_statement_);
    sqlite3_close(database_);
    throw;
  }
}

void KnowledgeIndex::LoadPostings(const ColumnWeights& weights) {
  auto postings = std::make_unique<Postings>();
  const double column_weights[] = {weights.title, weights.questions, weights.tags, weights.summary, weights.body};
  for (int column = 0; column < 5; ++column) postings->column_weights[column] = AsSqlSpellsIt(column_weights[column]);

  std::unordered_map<std::int64_t, std::uint32_t> row_by_rowid;
  {
    Statement rows(database_, "SELECT rowid, topic_id, question_row FROM topics ORDER BY rowid");
    int code = SQLITE_ROW;
    while ((code = sqlite3_step(rows.handle)) == SQLITE_ROW) {
      row_by_rowid.emplace(sqlite3_column_int64(rows.handle, 0),
                           static_cast<std::uint32_t>(postings->row_topic.size()));
      postings->row_topic.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(rows.handle, 1)));
      auto topic = std::find(postings->topic_ids.begin(), postings->topic_ids.end(), postings->row_topic.back());
      if (topic == postings->topic_ids.end()) {
        topic = postings->topic_ids.insert(postings->topic_ids.end(), postings->row_topic.back());
      }
      postings->row_topic_index.push_back(static_cast<std::uint32_t>(topic - postings->topic_ids.begin()));
      postings->row_is_question.push_back(sqlite3_column_int(rows.handle, 2) != 0);
    }
    Check(database_, code, "read rows");
  }
  postings->row_tokens.assign(postings->row_topic.size(), 0);
  Check(database_,
        sqlite3_exec(database_, "CREATE VIRTUAL TABLE temp.topic_instances USING fts5vocab(main, topics, 'instance')",
                     nullptr, nullptr, nullptr),
        "create vocabulary table");
  {
    Statement instances(database_, "SELECT term, doc, col, offset FROM temp.topic_instances");
    int code = SQLITE_ROW;
    while ((code = sqlite3_step(instances.handle)) == SQLITE_ROW) {
      const std::string column = reinterpret_cast<const char*>(sqlite3_column_text(instances.handle, 2));
      const auto found = std::find_if(std::begin(kIndexedColumns), std::end(kIndexedColumns),
                                      [&](const char* name) { return column == name; });
      if (found == std::end(kIndexedColumns)) throw std::runtime_error("knowledge index: unknown column " + column);
      const std::uint32_t row = row_by_rowid.at(sqlite3_column_int64(instances.handle, 1));
      postings->occurrences_by_token[reinterpret_cast<const char*>(sqlite3_column_text(instances.handle, 0))].push_back(
          {row, static_cast<std::uint8_t>(found - std::begin(kIndexedColumns)),
           static_cast<std::uint32_t>(sqlite3_column_int64(instances.handle, 3))});
      ++postings->row_tokens[row];
      ++postings->total_tokens;
    }
    Check(database_, code, "read postings");
  }
  for (auto& [token, occurrences] : postings->occurrences_by_token) std::sort(occurrences.begin(), occurrences.end());

  fts5_api* api = nullptr;
  {
    Statement statement(database_, "SELECT fts5(?1)");
    Check(database_, sqlite3_bind_pointer(statement.handle, 1, &api, "fts5_api_ptr", nullptr), "bind");
    Check(database_, sqlite3_step(statement.handle), "fts5 api");
  }
  if (api == nullptr) throw std::runtime_error("knowledge index: no FTS5 API");
  void* porter_context = nullptr;
  Check(database_, api->xFindTokenizer(api, "porter", &porter_context, &postings->tokenizer_api), "find tokenizer");
  const char* arguments[] = {"unicode61", "remove_diacritics", "2"};
  Check(database_, postings->tokenizer_api.xCreate(porter_context, arguments, 3, &postings->tokenizer),
        "create tokenizer");
  postings_ = std::move(postings);
}

KnowledgeIndex::~KnowledgeIndex() {
  postings_.reset();  // the tokenizer belongs to the connection
  sqlite3_finalize(search_statement_);
  sqlite3_finalize(term_statement_);
  sqlite3_close(database_);
}

std::vector<SearchHit> KnowledgeIndex::Search(std::string_view typed_question, int limit) const {
  const std::string normalised = text_speak_.Normalise(typed_question);
  const std::string_view question = normalised;
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
  // The asking sentence is the last one that ends in a question mark, when a statement follows it ("recovery time for a
  // pulled muscle? half marathon in 5 weeks"): the statement is context, not the question.
  const std::size_t question_mark = text.find_last_of('?');
  const bool statement_follows = question_mark != std::string_view::npos && question_mark < end;
  if (statement_follows) {
    end = text.substr(0, question_mark).find_last_not_of(" \t\r\n.?!");
    if (end == std::string_view::npos) return text;
  }
  const std::size_t found = text.substr(0, end).find_last_of(".?!\n");
  if (found == std::string_view::npos && !statement_follows) return text;  // one sentence
  const std::size_t start = found == std::string_view::npos ? 0 : found + 1;
  std::string_view sentence = text.substr(start, end + 1 - start);
  while (!sentence.empty() && (sentence.front() == ' ' || sentence.front() == '\t' || sentence.front() == '\r')) {
    sentence.remove_prefix(1);
  }
  // A sentence of fewer than three words ("help", "any ideas") asks nothing of its own.
  return QueryBuilder::Words(sentence).size() < 3 ? text : sentence;
}

std::vector<SearchHit> KnowledgeIndex::SearchText(std::string_view question, int limit) const {
  const std::vector<std::string> words = QueryBuilder::Words(question);
  if (ScopeCheck::AboutOtherBodyPartOnly(words) || ScopeCheck::AboutOtherSubjectOnly(words) ||
      ScopeCheck::AboutRacingOnly(words) || ScopeCheck::SmallTalkOnly(words)) {
    return {};
  }
  const std::vector<QueryTerm> terms = query_builder_->Terms(question);
  if (terms.empty()) return {};

  // In memory, each term's phrases are matched once and serve both the coverage and the ranking.
  using PhraseOccurrences = std::vector<std::pair<std::uint32_t, std::uint8_t>>;
  std::vector<std::vector<PhraseOccurrences>> occurrences_by_term;
  if (ranking_ == Ranking::kInMemory) {
    for (const auto& term : terms) {
      occurrences_by_term.emplace_back();
      for (const auto& alternative : term.alternatives) occurrences_by_term.back().push_back(Occurrences(alternative));
    }
  }

  // BM25's own IDF over topics, floored at zero: a term in half the topics or more says nothing about which one fits.
  const double topics = static_cast<double>(topic_count_);
  const double single_topic_weight = std::log((topics - 1 + 0.5) / (1 + 0.5));
  std::vector<std::vector<std::string>> containing;
  std::vector<double> weights;
  // A term in every topic ("back", "pain") cannot tell topics apart, yet it would make FTS5 score nearly every row.
  std::vector<std::size_t> distinguishing;
  for (std::size_t t = 0; t < terms.size(); ++t) {
    const QueryTerm& term = terms[t];
    if (ranking_ == Ranking::kInMemory) {
      containing.emplace_back();
      std::vector<bool> contains(postings_->topic_ids.size(), false);
      for (const auto& occurrences : occurrences_by_term[t]) {
        for (const auto& occurrence : occurrences) {
          const std::uint32_t topic = postings_->row_topic_index[occurrence.first];
          if (!contains[topic]) containing.back().push_back(postings_->topic_ids[topic]);
          contains[topic] = true;
        }
      }
    } else {
      containing.push_back(TopicsWith(term));
    }
    const double frequency = static_cast<double>(containing.back().size());
    // A number-led word the content never mentions ("3x", "45min", "2nd") is a detail of the question.
    const bool number = !term.typed.empty() && term.typed[0] >= '0' && term.typed[0] <= '9';
    weights.push_back(containing.back().empty()
                          ? (number ? 0.0 : unknown_term_weight_ * single_topic_weight)
                          : std::max(0.0, std::log((topics - frequency + 0.5) / (frequency + 0.5))));
    if (!containing.back().empty() && containing.back().size() < topic_count_) distinguishing.push_back(t);
  }
  if (distinguishing.empty()) {
    for (std::size_t t = 0; t < terms.size(); ++t) distinguishing.push_back(t);
  }
  std::vector<SearchHit> hits;
  if (ranking_ == Ranking::kInMemory) {
    std::vector<PhraseOccurrences> phrases;
    for (const std::size_t t : distinguishing) {
      for (const auto& occurrences : occurrences_by_term[t]) phrases.push_back(occurrences);
    }
    hits = RankInMemory(phrases, limit);
  } else {
    std::vector<QueryTerm> searched;
    for (const std::size_t t : distinguishing) searched.push_back(terms[t]);
    hits = SearchExpression(QueryBuilder::MatchExpression(searched), limit);
  }

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

std::vector<std::pair<std::uint32_t, std::uint8_t>> KnowledgeIndex::Occurrences(const std::string& phrase) const {
  std::vector<std::string> tokens;
  {
    std::lock_guard<std::mutex> lock(mutex_);  // the porter tokenizer has one shared buffer
    tokens = postings_->Tokens(phrase);
  }
  std::vector<std::pair<std::uint32_t, std::uint8_t>> found;
  if (tokens.empty()) return found;
  std::vector<const std::vector<Postings::Occurrence>*> lists;
  for (const auto& token : tokens) {
    const auto list = postings_->occurrences_by_token.find(token);
    if (list == postings_->occurrences_by_token.end()) return found;
    lists.push_back(&list->second);
  }
  for (const auto& first : *lists[0]) {
    bool whole_phrase = true;
    for (std::size_t k = 1; k < lists.size() && whole_phrase; ++k) {
      const Postings::Occurrence next{first.row, first.column, first.offset + static_cast<std::uint32_t>(k)};
      whole_phrase = std::binary_search(lists[k]->begin(), lists[k]->end(), next);
    }
    if (whole_phrase) found.emplace_back(first.row, first.column);
  }
  return found;
}

std::vector<SearchHit> KnowledgeIndex::RankInMemory(
    const std::vector<std::vector<std::pair<std::uint32_t, std::uint8_t>>>& phrase_occurrences, int limit) const {
  const Postings& postings = *postings_;
  const std::size_t phrases = phrase_occurrences.size();
  const auto rows = static_cast<std::int64_t>(postings.row_topic.size());
  const double average_tokens = static_cast<double>(postings.total_tokens) / static_cast<double>(rows);
  // The same arithmetic, in the same order, as FTS5's bm25(): IDF per phrase over rows, floored at 1e-6; the
  // weighted frequency per row; the sum over the phrases in query order.
  std::vector<double> idf(phrases);
  std::vector<std::int32_t> slot_of_row(postings.row_topic.size(), -1);
  std::vector<std::uint32_t> matched_rows;
  for (std::size_t p = 0; p < phrases; ++p) {
    std::int64_t rows_with_phrase = 0;
    for (std::size_t i = 0; i < phrase_occurrences[p].size(); ++i) {
      const std::uint32_t row = phrase_occurrences[p][i].first;
      if (i == 0 || phrase_occurrences[p][i - 1].first != row) ++rows_with_phrase;
      if (slot_of_row[row] < 0) {
        slot_of_row[row] = static_cast<std::int32_t>(matched_rows.size());
        matched_rows.push_back(row);
      }
    }
    idf[p] =
        std::log((static_cast<double>(rows - rows_with_phrase) + 0.5) / (static_cast<double>(rows_with_phrase) + 0.5));
    if (idf[p] <= 0.0) idf[p] = 1e-6;
  }
  std::vector<double> frequency(matched_rows.size() * phrases, 0.0);
  for (std::size_t p = 0; p < phrases; ++p) {
    for (const auto& [row, column] : phrase_occurrences[p]) {
      frequency[static_cast<std::size_t>(slot_of_row[row]) * phrases + p] += postings.column_weights[column];
    }
  }
  struct TopicScore {
    double best_question = 0;
    double topic = 0;
  };
  std::map<std::string, TopicScore> scores;
  std::sort(matched_rows.begin(), matched_rows.end());
  for (const std::uint32_t row : matched_rows) {
    const double length = static_cast<double>(postings.row_tokens[row]);
    const double* row_frequency = &frequency[static_cast<std::size_t>(slot_of_row[row]) * phrases];
    double row_score = 0.0;
    for (std::size_t p = 0; p < phrases; ++p) {
      row_score += idf[p] * ((row_frequency[p] * (kBm25K1 + 1.0)) /
                             (row_frequency[p] + kBm25K1 * (1 - kBm25B + kBm25B * length / average_tokens)));
    }
    auto& score = scores[postings.row_topic[row]];
    if (postings.row_is_question[row]) {
      score.best_question = std::max(score.best_question, row_score);
    } else {
      score.topic += row_score;
    }
  }
  std::vector<SearchHit> hits;
  for (const auto& [topic_id, score] : scores) hits.push_back({topic_id, score.best_question + score.topic, 0});
  SortHits(hits);
  if (hits.size() > static_cast<std::size_t>(std::max(limit, 0))) hits.resize(static_cast<std::size_t>(limit));
  return hits;
}

std::vector<std::string> KnowledgeIndex::TopicsWith(const QueryTerm& term) const {
  if (ranking_ == Ranking::kInMemory) {
    std::vector<std::string> topics;
    for (const auto& alternative : term.alternatives) {
      for (const auto& occurrence : Occurrences(alternative)) {
        const std::string& topic = postings_->row_topic[occurrence.first];
        if (std::find(topics.begin(), topics.end(), topic) == topics.end()) topics.push_back(topic);
      }
    }
    return topics;
  }
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
