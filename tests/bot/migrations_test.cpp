#include "bot/migrations.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "bot/conversation_store.h"
#include "bot/sqlite_conversation_store.h"
#include "temp_directory.h"

using namespace coach::bot;

namespace {

// The schema as SQLite stores it, order-independent: a migrated database must equal a fresh one.
std::vector<std::string> SchemaOf(SqliteDatabase& database) {
  std::vector<std::string> schema;
  auto statement = database.Prepare(
      "SELECT type || ' ' || name || ': ' || sql FROM sqlite_master WHERE sql IS NOT NULL "
      "AND name NOT LIKE 'sqlite_%' ORDER BY type, name",
      "read schema");
  while (statement.Step()) schema.push_back(statement.Text(0));
  return schema;
}

std::int64_t Count(SqliteDatabase& database, const std::string& table) {
  auto statement = database.Prepare("SELECT COUNT(*) FROM " + table, "count");
  REQUIRE(statement.Step());
  return statement.Int(0);
}

// Rows written with the columns every version since 1 has: one conversation with a two-turn transcript, a
// coach message after the second turn, an escalation, an unanswered question, an audit entry and a note.
void WriteVersion1Rows(SqliteDatabase& database) {
  database.Execute(R"sql(
    INSERT INTO conversations (id, channel, external_id, state_key, slots, status, triage_level, created_at_ms,
                               updated_at_ms)
      VALUES (7, 'web', 'session-1', 'pain_score', '{"where":"lower back"}', 'coach', 'urgent', 1, 2);
    INSERT INTO messages (id, conversation_id, author, text, created_at_ms) VALUES (1, 7, 'bot', 'Hello', 1);
    INSERT INTO messages (id, conversation_id, author, text, client_message_id, created_at_ms)
      VALUES (2, 7, 'user', 'my back hurts', 'c-1', 2);
    INSERT INTO messages (id, conversation_id, author, text, created_at_ms) VALUES (3, 7, 'bot', 'Where?', 3);
    INSERT INTO messages (id, conversation_id, author, text, client_message_id, created_at_ms)
      VALUES (4, 7, 'user', 'legs numb', 'c-2', 4);
    INSERT INTO messages (id, conversation_id, author, text, kind, created_at_ms)
      VALUES (5, 7, 'bot', 'See a doctor today', 'urgent', 5);
    INSERT INTO messages (id, conversation_id, author, text, kind, created_at_ms)
      VALUES (6, 7, 'system', 'A coach was called', 'system', 5);
    INSERT INTO messages (id, conversation_id, author, text, created_at_ms) VALUES (7, 7, 'coach', 'Hi, Sam here', 6);
    INSERT INTO escalations (conversation_id, level, flags, evidence, reason, created_at_ms)
      VALUES (7, 'urgent', '["leg_numbness"]', '["legs numb"]', 'red_flag', 5);
    INSERT INTO unanswered_questions (conversation_id, question, created_at_ms) VALUES (7, 'is yoga ok', 3);
    INSERT INTO audit_log (conversation_id, event, details, created_at_ms) VALUES (7, 'escalation_opened', '{}', 5);
    INSERT INTO coach_notes (conversation_id, coach_name, text, created_at_ms) VALUES (7, 'Sam', 'call back', 6);
  )sql",
                   "write version 1 rows");
}

void CheckVersion1RowsSurvived(SqliteDatabase& database) {
  CHECK(Count(database, "conversations") == 1);
  CHECK(Count(database, "messages") == 7);
  CHECK(Count(database, "escalations") == 1);
  CHECK(Count(database, "unanswered_questions") == 1);
  CHECK(Count(database, "audit_log") == 1);
  CHECK(Count(database, "coach_notes") == 1);
  auto conversation = database.Prepare("SELECT state_key, slots, status FROM conversations WHERE id = 7", "read");
  REQUIRE(conversation.Step());
  CHECK(conversation.Text(0) == "pain_score");
  CHECK(conversation.Text(1) == R"({"where":"lower back"})");
  CHECK(conversation.Text(2) == "coach");
}

}  // namespace

TEST_CASE("an empty database migrates to the latest version", "[migrations]") {
  SqliteDatabase database(":memory:");
  CHECK(SchemaVersion(database) == 0);
  MigrateSchema(database);
  CHECK(SchemaVersion(database) == LatestSchemaVersion());
  CHECK(Count(database, "conversations") == 0);
  MigrateSchema(database);  // idempotent
  CHECK(SchemaVersion(database) == LatestSchemaVersion());
}

TEST_CASE("migration versions are 1..N without gaps", "[migrations]") {
  const auto& migrations = SchemaMigrations();
  REQUIRE(migrations.size() >= 2);
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    CHECK(migrations[i].version == static_cast<int>(i + 1));
    CHECK_FALSE(migrations[i].description.empty());
  }
}

TEST_CASE("every earlier version upgrades to the latest with its rows intact and the fresh schema", "[migrations]") {
  SqliteDatabase fresh(":memory:");
  MigrateSchema(fresh);
  const auto fresh_schema = SchemaOf(fresh);

  for (int version = 1; version < LatestSchemaVersion(); ++version) {
    DYNAMIC_SECTION("from version " << version) {
      SqliteDatabase database(":memory:");
      database.Execute("PRAGMA foreign_keys = ON", "foreign keys");
      MigrateSchema(database, version);
      REQUIRE(SchemaVersion(database) == version);
      WriteVersion1Rows(database);
      MigrateSchema(database);
      CHECK(SchemaVersion(database) == LatestSchemaVersion());
      CheckVersion1RowsSurvived(database);
      CHECK(SchemaOf(database) == fresh_schema);
    }
  }
}

TEST_CASE("version 2 links the stored replies of version 1 to the runner message they answer", "[migrations]") {
  SqliteDatabase database(":memory:");
  MigrateSchema(database, 1);
  WriteVersion1Rows(database);
  MigrateSchema(database, 2);
  auto statement = database.Prepare("SELECT id, in_reply_to FROM messages ORDER BY id", "read links");
  std::vector<std::pair<std::int64_t, std::optional<std::int64_t>>> links;
  while (statement.Step()) links.emplace_back(statement.Int(0), statement.OptionalInt(1));
  const std::vector<std::pair<std::int64_t, std::optional<std::int64_t>>> expected = {
      {1, std::nullopt},  // the greeting came before any runner message
      {2, std::nullopt},  // runner lines answer nothing
      {3, 2},
      {4, std::nullopt},
      {5, 4},
      {6, 4},
      {7, std::nullopt},  // a coach message is not a replayable reply
  };
  CHECK(links == expected);
}

// SQLite compiles "x IN (three or more constants)" in a CHECK into an ephemeral table built on every row written.
bool CompilesToEphemeralTable(SqliteDatabase& database, const std::string& sql) {
  auto plan = database.Prepare("EXPLAIN " + sql, "explain");
  while (plan.Step()) {
    if (plan.Text(1) == "OpenEphemeral") return true;
  }
  return false;
}

TEST_CASE("version 6 rebuilds messages and escalations with their ids, the id counter and equivalent checks",
          "[migrations]") {
  SqliteDatabase database(":memory:");
  database.Execute("PRAGMA foreign_keys = ON", "foreign keys");
  MigrateSchema(database, 5);
  WriteVersion1Rows(database);
  database.Execute("UPDATE messages SET triage = '{\"level\":\"urgent\"}' WHERE id = 4", "triage on a runner line");
  database.Execute("UPDATE messages SET in_reply_to = 4 WHERE id = 5", "a reply's link");
  // The newest lines erased: their ids must still never come back.
  database.Execute("DELETE FROM messages WHERE id >= 6", "erase the newest lines");
  const std::string insert_message =
      "INSERT INTO messages (conversation_id, author, text, created_at_ms) VALUES (7, 'bot', 'next', 9)";
  const std::string insert_escalation =
      "INSERT INTO escalations (conversation_id, level, reason, created_at_ms) VALUES (7, 'urgent', 'red_flag', 9)";
  REQUIRE(CompilesToEphemeralTable(database, insert_message));  // what version 6 is for

  MigrateSchema(database, 6);
  CHECK(Count(database, "messages") == 5);
  CHECK(database.QueryText("SELECT triage FROM messages WHERE id = 4", "read") == R"({"level":"urgent"})");
  CHECK(database.QueryText("SELECT client_message_id FROM messages WHERE id = 2", "read") == "c-1");
  CHECK(database.QueryText("SELECT in_reply_to FROM messages WHERE id = 5", "read") == "4");
  CHECK(database.QueryText("SELECT status || ' ' || level FROM escalations", "read") == "open urgent");
  CHECK_FALSE(CompilesToEphemeralTable(database, insert_message));
  CHECK_FALSE(CompilesToEphemeralTable(database, insert_escalation));
  CHECK_FALSE(CompilesToEphemeralTable(database, "UPDATE escalations SET status = 'claimed' WHERE id = 1"));

  database.Execute(insert_message, "append after the migration");
  CHECK(database.QueryText("SELECT MAX(id) FROM messages", "read") == "8");
  CHECK_THROWS_WITH(database.Execute("INSERT INTO messages (conversation_id, author, text, created_at_ms) "
                                     "VALUES (7, 'robot', 'x', 9)",
                                     "bad author"),
                    Catch::Contains("CHECK constraint failed"));
  CHECK_THROWS_WITH(database.Execute("UPDATE escalations SET status = 'lost'", "bad status"),
                    Catch::Contains("CHECK constraint failed"));
  // Still children of their conversation.
  database.Execute("DELETE FROM conversations WHERE id = 7", "erase the conversation");
  CHECK(Count(database, "messages") == 0);
  CHECK(Count(database, "escalations") == 0);
}

TEST_CASE("version 8 drops the id counter and leaves an id floor where the counter was ahead", "[migrations]") {
  SqliteDatabase database(":memory:");
  database.Execute("PRAGMA foreign_keys = ON", "foreign keys");
  MigrateSchema(database, 7);
  WriteVersion1Rows(database);
  database.Execute("DELETE FROM messages WHERE id >= 6", "erase the newest lines");  // the counter stays at 7
  const std::string insert_message =
      "INSERT INTO messages (conversation_id, author, text, created_at_ms) VALUES (7, 'bot', 'next', 9)";

  MigrateSchema(database, 8);
  CHECK(Count(database, "messages") == 6);  // five lines and the floor
  CHECK(database.QueryText("SELECT id || ' ' || kind || ' ' || text FROM messages WHERE conversation_id IS NULL",
                           "read the floor") == "7 id_floor ");
  CHECK(database.QueryText("SELECT client_message_id FROM messages WHERE id = 2", "read") == "c-1");
  CHECK(database.QueryText("SELECT count(*) FROM sqlite_sequence WHERE name = 'messages'", "read") == "0");
  database.Execute(insert_message, "append after the migration");
  CHECK(database.QueryText("SELECT MAX(id) FROM messages", "read") == "8");
  // Only the floor may go without a conversation.
  CHECK_THROWS_WITH(database.Execute("INSERT INTO messages (conversation_id, author, text, created_at_ms) "
                                     "VALUES (NULL, 'bot', 'orphan', 9)",
                                     "orphan line"),
                    Catch::Contains("CHECK constraint failed"));
}

TEST_CASE("version 8 leaves no floor when the counter was not ahead of the table", "[migrations]") {
  SqliteDatabase database(":memory:");
  MigrateSchema(database, 7);
  WriteVersion1Rows(database);
  MigrateSchema(database, 8);
  CHECK(Count(database, "messages") == 7);
  CHECK(database.QueryText("SELECT count(*) FROM messages WHERE conversation_id IS NULL", "read") == "0");
}

TEST_CASE("the store opens a version 1 file, migrates it and serves its rows", "[migrations]") {
  testing::TempDirectory directory;
  const std::string path = directory.File("v1.db");
  {
    SqliteDatabase database(path);
    MigrateSchema(database, 1);
    WriteVersion1Rows(database);
  }
  SqliteConversationStore store(path);
  CHECK(store.SchemaVersion() == LatestSchemaVersion());
  auto conversation = store.FindConversation("web", "session-1");
  REQUIRE(conversation);
  CHECK(conversation->slots == nlohmann::json{{"where", "lower back"}});
  auto replies = store.RepliesTo(conversation->id, 4);
  REQUIRE(replies.size() == 2);
  CHECK(replies[0].text == "See a doctor today");
  CHECK(replies[1].author == Author::system);
  CHECK(store.IntegrityCheck().empty());
}

TEST_CASE("a database newer than this build is refused with a clear error", "[migrations]") {
  testing::TempDirectory directory;
  const std::string path = directory.File("future.db");
  {
    SqliteDatabase database(path);
    MigrateSchema(database);
    database.Execute("PRAGMA user_version = " + std::to_string(LatestSchemaVersion() + 1), "pretend newer");
  }
  CHECK_THROWS_AS(SqliteConversationStore(path), SchemaTooNewError);
  CHECK_THROWS_WITH(SqliteConversationStore(path), Catch::Contains("newer than this build") &&
                                                       Catch::Contains(std::to_string(LatestSchemaVersion() + 1)));
  SqliteDatabase untouched(path);
  CHECK(SchemaVersion(untouched) == LatestSchemaVersion() + 1);
}

TEST_CASE("a failing step is rolled back whole and the version stays", "[migrations]") {
  SqliteDatabase database(":memory:");
  // A stray table with version 1's name makes step 1 fail halfway through its script.
  database.Execute("CREATE TABLE coach_notes (x)", "stray table");
  CHECK_THROWS_WITH(MigrateSchema(database), Catch::Contains("migrate schema to version 1"));
  CHECK(SchemaVersion(database) == 0);
  auto tables = database.Prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'conversations'", "count");
  REQUIRE(tables.Step());
  CHECK(tables.Int(0) == 0);
}
