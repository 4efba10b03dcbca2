#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace coach::process_tests {

/// Opens the database file the way a restarted server would (read-write, so a left-over WAL is recovered) and
/// returns what `PRAGMA integrity_check` says: "ok" for a sound file, the problems otherwise.
std::string IntegrityCheck(const std::filesystem::path& database);

/// Size of the database's write-ahead log (`<db>-wal`); nullopt when there is none.
std::optional<std::uintmax_t> WalSize(const std::filesystem::path& database);

}  // namespace coach::process_tests
