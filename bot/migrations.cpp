#include "bot/migrations.h"

#include <string>

#include "bot/conversation_store.h"

namespace coach::bot {
namespace {

// Version 1: the core tables. Timestamps are Unix milliseconds; JSON columns hold text.
constexpr std::string_view kVersion1 = R"sql(
CREATE TABLE conversations (
  id INTEGER PRIMARY KEY,
  channel TEXT NOT NULL,
  external_id TEXT NOT NULL,
  state_key TEXT NOT NULL,
  slots TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL DEFAULT 'bot',
  triage_level TEXT,
  access_token_hash BLOB,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  UNIQUE (channel, external_id)
);
-- AUTOINCREMENT: message ids are SSE event ids and must never be reused after an erase.
CREATE TABLE messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  author TEXT NOT NULL CHECK (author IN ('user', 'bot', 'coach', 'system')),
  text TEXT NOT NULL,
  quick_replies TEXT NOT NULL DEFAULT '[]',
  kind TEXT NOT NULL DEFAULT 'normal',
  client_message_id TEXT,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
CREATE UNIQUE INDEX messages_by_client_message_id ON messages (conversation_id, client_message_id)
  WHERE client_message_id IS NOT NULL;
CREATE TABLE escalations (
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  level TEXT NOT NULL,
  flags TEXT NOT NULL DEFAULT '[]',
  evidence TEXT NOT NULL DEFAULT '[]',
  reason TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'claimed', 'closed')),
  claimed_by TEXT,
  created_at_ms INTEGER NOT NULL,
  claimed_at_ms INTEGER,
  closed_at_ms INTEGER
);
CREATE INDEX escalations_by_conversation ON escalations (conversation_id);
CREATE TABLE unanswered_questions (
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  question TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX unanswered_questions_by_conversation ON unanswered_questions (conversation_id);
-- No foreign key: the trail outlives an erased conversation, and it holds no message text.
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL,
  event TEXT NOT NULL,
  details TEXT NOT NULL DEFAULT '{}',
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX audit_log_by_conversation ON audit_log (conversation_id, id);
CREATE TABLE coach_notes (
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  coach_name TEXT NOT NULL,
  text TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX coach_notes_by_conversation ON coach_notes (conversation_id);
)sql";

// Version 2: replies point at the runner message they answer. Version 1 found a turn's replies as "the rows
// after the user line until the next one", which wrongly replays a coach message posted after the bot replies.
// Existing bot and system rows are linked to the latest user line before them.
constexpr std::string_view kVersion2 = R"sql(
ALTER TABLE messages ADD COLUMN in_reply_to INTEGER;
UPDATE messages SET in_reply_to = (
  SELECT MAX(earlier.id) FROM messages AS earlier
  WHERE earlier.conversation_id = messages.conversation_id AND earlier.author = 'user' AND earlier.id < messages.id)
WHERE author IN ('bot', 'system');
CREATE INDEX messages_by_reply ON messages (conversation_id, in_reply_to) WHERE in_reply_to IS NOT NULL;
)sql";

// Version 3: the coach queue and /metrics read live escalations and conversations by status on every scrape;
// without these indexes both are full table scans that grow with history.
constexpr std::string_view kVersion3 = R"sql(
CREATE INDEX escalations_live ON escalations (status, level, created_at_ms) WHERE status IN ('open', 'claimed');
CREATE INDEX conversations_by_status ON conversations (status, state_key);
)sql";

// Version 4: a revision per conversation. The service runs the dialog outside the write transaction (so turns
// of different conversations compute in parallel) and saves with "WHERE revision = <the one read>", so no writer,
// in this process or another, can overwrite a state it did not see.
constexpr std::string_view kVersion4 = R"sql(
ALTER TABLE conversations ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 5: fewer pages written per turn (each index touched is one more 4 KiB page in the WAL per commit).
// A runner line carries its own triage decision instead of a separate audit row (erased with the transcript, as
// health data should be); replies are found through messages_by_conversation (they always follow the line they
// answer), so their own index goes. Audit rows of type "triaged" written by earlier versions stay as they are.
constexpr std::string_view kVersion5 = R"sql(
ALTER TABLE messages ADD COLUMN triage TEXT;
DROP INDEX messages_by_reply;
)sql";

// Version 6: the same tables with their CHECK constraints written as OR chains. SQLite 3.40 compiles a CHECK
// "IN (three or more constants)" into an ephemeral table built on every insert or update, which was a third of
// a message insert's cost (a B-tree opened, its page buffers zeroed, then freed). The tables are rebuilt (SQLite
// cannot change a constraint in place), keeping ids and the AUTOINCREMENT counter: message ids are never reused.
constexpr std::string_view kVersion6 = R"sql(
CREATE TABLE messages_v6 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  author TEXT NOT NULL CHECK (author = 'user' OR author = 'bot' OR author = 'coach' OR author = 'system'),
  text TEXT NOT NULL,
  quick_replies TEXT NOT NULL DEFAULT '[]',
  kind TEXT NOT NULL DEFAULT 'normal',
  client_message_id TEXT,
  created_at_ms INTEGER NOT NULL,
  in_reply_to INTEGER,
  triage TEXT
);
INSERT INTO messages_v6 (id, conversation_id, author, text, quick_replies, kind, client_message_id, created_at_ms,
                         in_reply_to, triage)
  SELECT id, conversation_id, author, text, quick_replies, kind, client_message_id, created_at_ms, in_reply_to, triage
  FROM messages ORDER BY id;
DELETE FROM sqlite_sequence WHERE name = 'messages_v6';
INSERT INTO sqlite_sequence (name, seq) SELECT 'messages_v6', seq FROM sqlite_sequence WHERE name = 'messages';
DROP TABLE messages;
ALTER TABLE messages_v6 RENAME TO messages;
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
CREATE UNIQUE INDEX messages_by_client_message_id ON messages (conversation_id, client_message_id)
  WHERE client_message_id IS NOT NULL;

CREATE TABLE escalations_v6 (
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  level TEXT NOT NULL,
  flags TEXT NOT NULL DEFAULT '[]',
  evidence TEXT NOT NULL DEFAULT '[]',
  reason TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status = 'open' OR status = 'claimed' OR status = 'closed'),
  claimed_by TEXT,
  created_at_ms INTEGER NOT NULL,
  claimed_at_ms INTEGER,
  closed_at_ms INTEGER
);
INSERT INTO escalations_v6 SELECT id, conversation_id, level, flags, evidence, reason, status, claimed_by,
  created_at_ms, claimed_at_ms, closed_at_ms FROM escalations ORDER BY id;
DROP TABLE escalations;
ALTER TABLE escalations_v6 RENAME TO escalations;
CREATE INDEX escalations_by_conversation ON escalations (conversation_id);
CREATE INDEX escalations_live ON escalations (status, level, created_at_ms) WHERE status IN ('open', 'claimed');
)sql";

// Version 7: no index on the conversation's status and state. Every turn changes the state key, and SQLite
// rewrites an index entry whenever its column is set (even to the same value): one more WAL page per turn, for a
// gauge read once per /metrics scrape, which counts by triage level with a full scan anyway. The gauges now come
// from one scan of the table.
constexpr std::string_view kVersion7 = R"sql(
DROP INDEX conversations_by_status;
)sql";

// Version 8: message ids without AUTOINCREMENT. The counter cost every turn a write to sqlite_sequence: one more
// B-tree update and one more 4 KiB WAL frame per commit (about a sixth of a turn's commit). SQLite now gives each
// new line the largest id + 1, which could only hand out an id again after an erase removed the newest lines; the
// store prevents that by leaving an "id floor" row there (no conversation, no text; see DeleteConversation), and
// this rebuild leaves one where the old counter was ahead of the table. `conversation_id` is nullable for it alone.
constexpr std::string_view kVersion8 = R"sql(
CREATE TABLE messages_v8 (
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
  author TEXT NOT NULL CHECK (author = 'user' OR author = 'bot' OR author = 'coach' OR author = 'system'),
  text TEXT NOT NULL,
  quick_replies TEXT NOT NULL DEFAULT '[]',
  kind TEXT NOT NULL DEFAULT 'normal',
  client_message_id TEXT,
  created_at_ms INTEGER NOT NULL,
  in_reply_to INTEGER,
  triage TEXT,
  CHECK (conversation_id IS NOT NULL OR kind = 'id_floor')
);
INSERT INTO messages_v8 (id, conversation_id, author, text, quick_replies, kind, client_message_id, created_at_ms,
                         in_reply_to, triage)
  SELECT id, conversation_id, author, text, quick_replies, kind, client_message_id, created_at_ms, in_reply_to, triage
  FROM messages ORDER BY id;
INSERT INTO messages_v8 (id, conversation_id, author, text, kind, created_at_ms)
  SELECT seq, NULL, 'system', '', 'id_floor', 0 FROM sqlite_sequence
  WHERE name = 'messages' AND seq > (SELECT coalesce(max(id), 0) FROM messages);
DROP TABLE messages;
ALTER TABLE messages_v8 RENAME TO messages;
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
CREATE UNIQUE INDEX messages_by_client_message_id ON messages (conversation_id, client_message_id)
  WHERE client_message_id IS NOT NULL;
)sql";

}  // namespace

const std::vector<Migration>& SchemaMigrations() {
  static const std::vector<Migration> migrations = {
      {1, "core tables: conversations, messages, escalations, unanswered questions, audit log, coach notes", kVersion1},
      {2, "messages.in_reply_to links a turn's replies to the runner message", kVersion2},
      {3, "indexes for the escalation queue and the metrics gauges", kVersion3},
      {4, "conversations.revision for optimistic concurrency", kVersion4},
      {5, "messages.triage on runner lines; replies found without their own index", kVersion5},
      {6, "CHECK constraints without IN lists (no ephemeral table per insert)", kVersion6},
      {7, "no conversations_by_status index (one WAL page less per turn)", kVersion7},
      {8, "message ids without AUTOINCREMENT, kept unique by an id floor row (one WAL page less per turn)", kVersion8},
  };
  return migrations;
}

int LatestSchemaVersion() {
  return SchemaMigrations().back().version;
}

int SchemaVersion(SqliteDatabase& database) {
  auto version = database.QueryText("PRAGMA user_version", "read schema version");
  return version ? std::stoi(*version) : 0;
}

void MigrateSchema(SqliteDatabase& database, int target_version) {
  const int latest = LatestSchemaVersion();
  if (target_version < 0) target_version = latest;
  if (target_version > latest) {
    throw StoreError("migrate schema: target version " + std::to_string(target_version) + " is unknown to this build");
  }
  const int current = SchemaVersion(database);
  if (current > latest) {
    throw SchemaTooNewError("database '" + database.Path() + "' has schema version " + std::to_string(current) +
                            ", newer than this build's " + std::to_string(latest) +
                            ": refusing to start (run the newer build, or restore a backup)");
  }
  for (const Migration& migration : SchemaMigrations()) {
    if (migration.version <= current || migration.version > target_version) continue;
    SqliteTransaction transaction(database);
    // Re-read inside the write lock: another process may have migrated while this one waited.
    if (SchemaVersion(database) >= migration.version) continue;
    const std::string operation = "migrate schema to version " + std::to_string(migration.version);
    database.Execute(std::string(migration.sql), operation);
    database.Execute("PRAGMA user_version = " + std::to_string(migration.version), operation);
    transaction.Commit();
  }
}

}  // namespace coach::bot
