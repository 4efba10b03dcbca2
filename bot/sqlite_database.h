#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace coach::bot {

/// A prepared statement borrowed from SqliteDatabase's cache: bind, step, read columns. Reset and unbound when
/// it goes out of scope, ready for the next user. Not copyable; lives shorter than its database.
class SqliteStatement {
 public:
  SqliteStatement(sqlite3_stmt* statement, sqlite3* database, std::string_view operation);
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  SqliteStatement& operator=(SqliteStatement&&) = delete;
  ~SqliteStatement();

  /// Parameters are 1-based, as in SQLite.
  SqliteStatement& Bind(int index, std::int64_t value);
  SqliteStatement& Bind(int index, std::string_view text);
  SqliteStatement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  SqliteStatement& Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  SqliteStatement& BindBlob(int index, std::string_view bytes);
  SqliteStatement& BindNull(int index);
  SqliteStatement& Bind(int index, const std::optional<std::string>& text);
  SqliteStatement& Bind(int index, const std::optional<std::int64_t>& value);

  /// Advances to the next row; false when there are no more.
  bool Step();
  /// Runs a statement that returns no rows.
  void Run();

  /// Columns are 0-based, as in SQLite.
  bool IsNull(int column) const;
  std::int64_t Int(int column) const;
  std::string Text(int column) const;
  std::string Blob(int column) const;
  std::optional<std::string> OptionalText(int column) const;
  std::optional<std::int64_t> OptionalInt(int column) const;

 private:
  [[noreturn]] void Fail(int code) const;
  sqlite3_stmt* statement_;
  sqlite3* database_;
  std::string_view operation_;
};

/// Turns SQLite's memory statistics off for the whole process: they take one process-wide mutex around every SQLite
/// allocation and free (some seventy in each turn's group commit), and nothing here reads them. SQLite accepts this
/// only before its first use anywhere in the process, and the knowledge index opens SQLite before the store does,
/// so a program calls it first thing (main does). SqliteDatabase calls it too, for programs that open a store first.
void TurnOffSqliteMemoryStatistics();

/// Whether SQLite counts its memory, i.e. TurnOffSqliteMemoryStatistics came after SQLite's first use. Read from
/// SQLite's own counter, which stays at zero while the statistics are off: meaningful once SQLite has allocated.
bool SqliteMemoryStatisticsOn();

/// One SQLite connection with a cache of prepared statements. Not thread-safe: its owner serializes use
/// (SqliteConversationStore holds it behind a mutex).
class SqliteDatabase {
 public:
  /// Opens (creating if needed) `path`; ":memory:" gives a private in-memory database. Throws StoreError.
  explicit SqliteDatabase(const std::string& path);
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;
  ~SqliteDatabase();

  /// Runs one or more statements that return nothing (DDL, pragmas); `operation` names them in errors.
  void Execute(const std::string& sql, std::string_view operation);
  /// The first column of the first row as text (pragmas that answer, e.g. journal_mode); nullopt for no row.
  std::optional<std::string> QueryText(const std::string& sql, std::string_view operation);
  /// A cached prepared statement; `operation` (a string literal) names it in errors.
  SqliteStatement Prepare(const std::string& sql, std::string_view operation);

  std::int64_t LastInsertId() const;
  int Changes() const;
  bool InTransaction() const;
  sqlite3* Handle() const { return database_; }
  const std::string& Path() const { return path_; }

 private:
  sqlite3* database_ = nullptr;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

/// RAII write transaction (SQLiteCpp style): BEGIN IMMEDIATE on construction, so the write lock is taken up
/// front and a busy database fails here rather than at the first write; Commit() ends it; the destructor rolls
/// back whatever was not committed (an exception on the way out included).
class SqliteTransaction {
 public:
  explicit SqliteTransaction(SqliteDatabase& database);
  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;
  ~SqliteTransaction();

  void Commit();

 private:
  SqliteDatabase& database_;
  bool finished_ = false;
};

/// Throws StoreError for a failed SQLite call: "<operation>: <SQLite message> (code N)".
[[noreturn]] void ThrowSqliteError(sqlite3* database, int code, std::string_view operation);

}  // namespace coach::bot
