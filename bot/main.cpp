// coachbot: a running coach's chat assistant. The commands live in adapters/cli; this file only wires them.
#include <CLI/CLI.hpp>

#include "adapters/cli/commands.h"
#include "bot/sqlite_database.h"

int main(int argc, char** argv) {
  // Before anything uses SQLite (the knowledge index does, before the store): later it cannot be done.
  coach::bot::TurnOffSqliteMemoryStatistics();
  CLI::App app{"coachbot: red-flag triage, coaching answers and recovery plans for runners with back pain"};
  app.set_version_flag("--version", "coachbot 0.1.0");
  app.require_subcommand(1);
  coach::adapters::cli::RegisterCommands(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
