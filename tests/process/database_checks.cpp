#include "database_checks.h"

#include <sqlite3.h>

#include <stdexcept>

namespace coach::process_tests {

std::string IntegrityCheck(const std::filesystem::path& database) {
  sqlite3* connection = nullptr;
  if (sqlite3_open_v2(database.c_str(), &connection, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string error = connection ? sqlite3_errmsg(connection) : "out of memory";
    sqlite3_close(connection);
    return "cannot open " + database.string() + ": " + error;
  }
  sqlite3_busy_timeout(connection, 10000);
  std::string result;
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(connection, "PRAGMA integrity_check", -1, &statement, nullptr) != SQLITE_OK) {
    result = std::string("cannot run integrity_check: ") + sqlite3_errmsg(connection);
  } else {
    int step = SQLITE_ROW;
    while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
      if (!result.empty()) result += "\n";
      result += reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    }
    if (step != SQLITE_DONE) result += std::string("\nstep failed: ") + sqlite3_errmsg(connection);
  }
  sqlite3_finalize(statement);
  sqlite3_close(connection);
  return result;
}

std::optional<std::uintmax_t> WalSize(const std::filesystem::path& database) {
  const std::filesystem::path wal = database.string() + "-wal";
  std::error_code error;
  const auto size = std::filesystem::file_size(wal, error);
  if (error) return std::nullopt;
  return size;
}

}  // namespace coach::process_tests
