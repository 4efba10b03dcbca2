#include "bot/sqlite_database.h"

#include <catch2/catch.hpp>

#include <stdexcept>

#include "bot/conversation_store.h"

using coach::bot::SqliteDatabase;
using coach::bot::SqliteTransaction;
using coach::bot::StoreError;

namespace {

std::int64_t CountRows(SqliteDatabase& database) {
  auto statement = database.Prepare("SELECT COUNT(*) FROM items", "count items");
  REQUIRE(statement.Step());
  return statement.Int(0);
}

}  // namespace

TEST_CASE("a committed transaction keeps its writes", "[sqlite_database]") {
  SqliteDatabase database(":memory:");
  database.Execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)", "create");
  {
    SqliteTransaction transaction(database);
    database.Prepare("INSERT INTO items (name) VALUES (?1)", "insert").Bind(1, "one").Run();
    transaction.Commit();
  }
  CHECK(CountRows(database) == 1);
  CHECK_FALSE(database.InTransaction());
}

TEST_CASE("a transaction left without Commit rolls back, also on an exception", "[sqlite_database]") {
  SqliteDatabase database(":memory:");
  database.Execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)", "create");
  {
    SqliteTransaction transaction(database);
    database.Prepare("INSERT INTO items (name) VALUES (?1)", "insert").Bind(1, "one").Run();
  }
  CHECK(CountRows(database) == 0);
  try {
    SqliteTransaction transaction(database);
    database.Prepare("INSERT INTO items (name) VALUES (?1)", "insert").Bind(1, "two").Run();
    throw std::runtime_error("the work failed");
  } catch (const std::runtime_error&) {
  }
  CHECK(CountRows(database) == 0);
  CHECK_FALSE(database.InTransaction());
}

TEST_CASE("cached statements are reset after use and rebind cleanly", "[sqlite_database]") {
  SqliteDatabase database(":memory:");
  database.Execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)", "create");
  for (const char* name : {"a", "b", "c"}) {
    database.Prepare("INSERT INTO items (name) VALUES (?1)", "insert").Bind(1, name).Run();
  }
  for (int round = 0; round < 2; ++round) {
    auto statement = database.Prepare("SELECT name FROM items WHERE id >= ?1 ORDER BY id", "select");
    statement.Bind(1, std::int64_t{2});
    REQUIRE(statement.Step());
    CHECK(statement.Text(0) == "b");
    // Left mid-result on purpose: the next Prepare must start from the first row again.
  }
  auto missing = database.Prepare("SELECT name FROM items WHERE name = ?1", "select by name");
  missing.Bind(1, std::optional<std::string>());
  CHECK_FALSE(missing.Step());
}

TEST_CASE("binary and embedded NUL text round-trips", "[sqlite_database]") {
  SqliteDatabase database(":memory:");
  database.Execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, data BLOB)", "create");
  const std::string text("a\0b", 3);
  const std::string bytes("\x00\xff\x10", 3);
  database.Prepare("INSERT INTO items (name, data) VALUES (?1, ?2)", "insert").Bind(1, text).BindBlob(2, bytes).Run();
  auto statement = database.Prepare("SELECT name, data FROM items", "select");
  REQUIRE(statement.Step());
  CHECK(statement.Text(0) == text);
  CHECK(statement.Blob(1) == bytes);
}

TEST_CASE("errors name the operation and carry SQLite's message and code", "[sqlite_database]") {
  SqliteDatabase database(":memory:");
  database.Execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)", "create");
  try {
    database.Prepare("INSERT INTO items (name) VALUES (NULL)", "insert nameless item").Run();
    FAIL("expected a StoreError");
  } catch (const StoreError& error) {
    CHECK_THAT(error.what(), Catch::Contains("insert nameless item") && Catch::Contains("NOT NULL"));
    CHECK(error.code() != 0);
  }
  CHECK_THROWS_WITH(database.Prepare("SELECT * FROM nowhere", "read nowhere"),
                    Catch::Contains("read nowhere") && Catch::Contains("no such table"));
}

TEST_CASE("opening a path that cannot exist fails with a StoreError", "[sqlite_database]") {
  CHECK_THROWS_AS(SqliteDatabase("/proc/definitely/not/here.db"), StoreError);
}
