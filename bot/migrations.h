#pragma once

#include <string_view>
#include <vector>

#include "bot/sqlite_database.h"

namespace coach::bot {

/// One forward-only schema step: the SQL that takes the database from `version - 1` to `version`.
struct Migration {
  int version = 0;
  std::string_view description;
  std::string_view sql;
};

/// Every schema version this build knows, in order (version 1 first). Never edit a shipped step: add one.
const std::vector<Migration>& SchemaMigrations();
/// The schema version this build writes.
int LatestSchemaVersion();
/// The database's PRAGMA user_version (0 for a new file).
int SchemaVersion(SqliteDatabase& database);

/// Applies the missing steps up to `target_version` (default: latest), each in its own transaction that also
/// sets user_version, so a crash leaves the database at a whole version. Throws SchemaTooNewError when the
/// database is newer than this build, StoreError when a step fails (that step is rolled back).
void MigrateSchema(SqliteDatabase& database, int target_version = -1);

}  // namespace coach::bot
