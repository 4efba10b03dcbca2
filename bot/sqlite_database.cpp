#include "bot/sqlite_database.h"

#include <sqlite3.h>

#include <utility>

#include "bot/conversation_store.h"
#include "bot/wal_write_batching_vfs.h"

namespace coach::bot {

void ThrowSqliteError(sqlite3* database, int code, std::string_view operation) {
  std::string message(operation);
  message += ": ";
  message += database != nullptr ? sqlite3_errmsg(database) : sqlite3_errstr(code);
  message += " (code " + std::to_string(code) + ")";
  throw StoreError(message, code);
}

SqliteStatement::SqliteStatement(sqlite3_stmt* statement, sqlite3* database, std::string_view operation)
    : statement_(statement), database_(database), operation_(operation) {}

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : statement_(std::exchange(other.statement_, nullptr)), database_(other.database_), operation_(other.operation_) {}

SqliteStatement::~SqliteStatement() {
  if (statement_ != nullptr) {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
}

void SqliteStatement::Fail(int code) const {
  ThrowSqliteError(database_, code, operation_);
}

SqliteStatement& SqliteStatement::Bind(int index, std::int64_t value) {
  if (int code = sqlite3_bind_int64(statement_, index, value); code != SQLITE_OK) Fail(code);
  return *this;
}

SqliteStatement& SqliteStatement::Bind(int index, std::string_view text) {
  int code = sqlite3_bind_text64(statement_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (code != SQLITE_OK) Fail(code);
  return *this;
}

SqliteStatement& SqliteStatement::BindBlob(int index, std::string_view bytes) {
  int code = sqlite3_bind_blob64(statement_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  if (code != SQLITE_OK) Fail(code);
  return *this;
}

SqliteStatement& SqliteStatement::BindNull(int index) {
  if (int code = sqlite3_bind_null(statement_, index); code != SQLITE_OK) Fail(code);
  return *this;
}

SqliteStatement& SqliteStatement::Bind(int index, const std::optional<std::string>& text) {
  return text ? Bind(index, std::string_view(*text)) : BindNull(index);
}

SqliteStatement& SqliteStatement::Bind(int index, const std::optional<std::int64_t>& value) {
  return value ? Bind(index, *value) : BindNull(index);
}

bool SqliteStatement::Step() {
  int code = sqlite3_step(statement_);
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  Fail(code);
}

void SqliteStatement::Run() {
  while (Step()) {
  }
}

bool SqliteStatement::IsNull(int column) const {
  return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

std::int64_t SqliteStatement::Int(int column) const {
  return sqlite3_column_int64(statement_, column);
}

std::string SqliteStatement::Text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
  int size = sqlite3_column_bytes(statement_, column);
  return text != nullptr ? std::string(text, static_cast<std::size_t>(size)) : std::string();
}

std::string SqliteStatement::Blob(int column) const {
  const auto* bytes = static_cast<const char*>(sqlite3_column_blob(statement_, column));
  int size = sqlite3_column_bytes(statement_, column);
  return bytes != nullptr ? std::string(bytes, static_cast<std::size_t>(size)) : std::string();
}

std::optional<std::string> SqliteStatement::OptionalText(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Text(column);
}

std::optional<std::int64_t> SqliteStatement::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

void TurnOffSqliteMemoryStatistics() {
  // Once: after SQLite's first use the call only answers SQLITE_MISUSE.
  static const int kResult = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)kResult;
}

bool SqliteMemoryStatisticsOn() {
  return sqlite3_memory_used() > 0;
}

SqliteDatabase::SqliteDatabase(const std::string& path) : path_(path) {
  TurnOffSqliteMemoryStatistics();
  // NOMUTEX: the owner serializes access, so SQLite's own per-connection mutex would only cost time.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int code = sqlite3_open_v2(path.c_str(), &database_, flags, WalWriteBatchingVfsName());
  if (code != SQLITE_OK) {
    std::string message = "open database '" + path + "'";
    sqlite3* failed = std::exchange(database_, nullptr);
    try {
      ThrowSqliteError(failed, code, message);
    } catch (...) {
      sqlite3_close(failed);
      throw;
    }
  }
  sqlite3_extended_result_codes(database_, 1);
}

SqliteDatabase::~SqliteDatabase() {
  for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
  sqlite3_close(database_);
}

void SqliteDatabase::Execute(const std::string& sql, std::string_view operation) {
  char* error = nullptr;
  int code = sqlite3_exec(database_, sql.c_str(), nullptr, nullptr, &error);
  sqlite3_free(error);
  if (code != SQLITE_OK) ThrowSqliteError(database_, code, operation);
}

std::optional<std::string> SqliteDatabase::QueryText(const std::string& sql, std::string_view operation) {
  sqlite3_stmt* raw = nullptr;
  int code = sqlite3_prepare_v2(database_, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr);
  if (code != SQLITE_OK) ThrowSqliteError(database_, code, operation);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement(raw, sqlite3_finalize);
  code = sqlite3_step(raw);
  if (code == SQLITE_DONE) return std::nullopt;
  if (code != SQLITE_ROW) ThrowSqliteError(database_, code, operation);
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
  return text != nullptr ? std::string(text) : std::string();
}

SqliteStatement SqliteDatabase::Prepare(const std::string& sql, std::string_view operation) {
  auto found = statements_.find(sql);
  if (found == statements_.end()) {
    sqlite3_stmt* statement = nullptr;
    int code = sqlite3_prepare_v3(database_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                  &statement, nullptr);
    if (code != SQLITE_OK) ThrowSqliteError(database_, code, operation);
    found = statements_.emplace(sql, statement).first;
  }
  return SqliteStatement(found->second, database_, operation);
}

std::int64_t SqliteDatabase::LastInsertId() const {
  return sqlite3_last_insert_rowid(database_);
}

int SqliteDatabase::Changes() const {
  return sqlite3_changes(database_);
}

bool SqliteDatabase::InTransaction() const {
  return sqlite3_get_autocommit(database_) == 0;
}

SqliteTransaction::SqliteTransaction(SqliteDatabase& database) : database_(database) {
  // Cached statements: sqlite3_exec would parse BEGIN and COMMIT again for every turn.
  database_.Prepare("BEGIN IMMEDIATE", "begin transaction").Run();
}

SqliteTransaction::~SqliteTransaction() {
  if (finished_) return;
  // A failed statement may already have rolled the transaction back (SQLITE_FULL, SQLITE_IOERR do).
  if (database_.InTransaction()) sqlite3_exec(database_.Handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void SqliteTransaction::Commit() {
  database_.Prepare("COMMIT", "commit transaction").Run();
  finished_ = true;
}

}  // namespace coach::bot
