#include "bot/wal_write_batching_vfs.h"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "bot/conversation_store.h"
#include "bot/sqlite_database.h"
#include "temp_directory.h"

using namespace coach::bot;

namespace {

/// WAL mode without automatic checkpoints (every frame stays in the WAL), and the table the tests fill.
void CreateWalDatabase(SqliteDatabase& database) {
  REQUIRE(database.QueryText("PRAGMA journal_mode = WAL", "wal") == std::optional<std::string>("wal"));
  database.Execute("PRAGMA synchronous = NORMAL", "synchronous");
  database.Execute("PRAGMA wal_autocheckpoint = 0", "no checkpoints");
  database.Execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)", "create");
}

// Rows of about 1 KiB, so that a transaction spans many pages and its frames many writes without batching.
void InsertRows(SqliteDatabase& database, int first, int count) {
  database.Execute("BEGIN IMMEDIATE", "begin");
  for (int id = first; id < first + count; ++id) {
    database.Prepare("INSERT INTO rows (id, body) VALUES (?1, ?2)", "insert")
        .Bind(1, id)
        .Bind(2, std::string(1000, static_cast<char>('a' + id % 26)))
        .Run();
  }
  database.Execute("COMMIT", "commit");
}

std::int64_t CountRows(SqliteDatabase& database) {
  return std::stoll(*database.QueryText("SELECT COUNT(*) FROM rows", "count"));
}

}  // namespace

TEST_CASE("a commit reaches the WAL in one write and another connection sees it at once", "[wal_vfs]") {
  testing::TempDirectory directory;
  const std::string path = directory.File("batched.db");
  SqliteDatabase writer(path);
  CreateWalDatabase(writer);
  SqliteDatabase reader(path);
  for (int round = 0; round < 20; ++round) {
    const auto writes_before = WalWritesIssued();
    InsertRows(writer, round * 10, 10);  // about 3 pages of rows plus the table's pages: several frames
    CHECK(WalWritesIssued() == writes_before + 1);
    CHECK(CountRows(reader) == (round + 1) * 10);
  }
}

TEST_CASE("a transaction of more than 64 KiB of frames is written in pieces and reads back whole", "[wal_vfs]") {
  testing::TempDirectory directory;
  const std::string path = directory.File("large.db");
  {
    SqliteDatabase writer(path);
    CreateWalDatabase(writer);
    const auto writes_before = WalWritesIssued();
    InsertRows(writer, 0, 400);  // about 100 pages: 400 KiB of frames
    CHECK(WalWritesIssued() > writes_before + 4);
    CHECK(WalWritesIssued() < writes_before + 20);
    SqliteDatabase reader(path);
    CHECK(CountRows(reader) == 400);
  }
  // The plain unix VFS reads the same file (the WAL is recovered on open if it was not checkpointed).
  sqlite3* plain = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &plain, SQLITE_OPEN_READONLY, "unix") == SQLITE_OK);
  sqlite3_stmt* check = nullptr;
  REQUIRE(sqlite3_prepare_v2(plain,
                             "SELECT (SELECT COUNT(*) FROM rows), (SELECT integrity_check FROM pragma_integrity_check)",
                             -1, &check, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(check) == SQLITE_ROW);
  CHECK(sqlite3_column_int(check, 0) == 400);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(check, 1))) == "ok");
  sqlite3_finalize(check);
  sqlite3_close(plain);
}

TEST_CASE("a WAL write that fails fails the commit, and the file keeps every earlier commit", "[wal_vfs]") {
  testing::TempDirectory directory;
  const std::string path = directory.File("full.db");
  // Stays open (and idle) in this process, so that the WAL is not checkpointed away when the child runs.
  SqliteDatabase first_writer(path);
  CreateWalDatabase(first_writer);
  InsertRows(first_writer, 0, 10);
  const auto wal_size = std::filesystem::file_size(path + "-wal");
  // A child process whose files may not grow past the WAL's size plus 16 KiB: its big commit cannot be written.
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);  // the write fails with EFBIG instead of killing the process
    const rlimit limit{static_cast<rlim_t>(wal_size + 16384), static_cast<rlim_t>(wal_size + 16384)};
    setrlimit(RLIMIT_FSIZE, &limit);
    int status = 2;
    try {
      SqliteDatabase writer(path);
      InsertRows(writer, 10, 200);
      status = 1;  // the commit should have failed
    } catch (const StoreError& error) {
      status = std::string(error.what()).find("commit") != std::string::npos ? 0 : 3;
    } catch (...) {
      status = 4;
    }
    _exit(status);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  SqliteDatabase reader(path);
  CHECK(CountRows(reader) == 10);
  CHECK(reader.QueryText("PRAGMA integrity_check", "integrity") == std::optional<std::string>("ok"));
  // And the writer goes on.
  SqliteDatabase writer(path);
  InsertRows(writer, 10, 5);
  CHECK(CountRows(reader) == 15);
}
