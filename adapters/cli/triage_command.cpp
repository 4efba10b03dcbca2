#include "adapters/cli/commands.h"

namespace coach::adapters::cli {
void AddTriageCommand(CLI::App& app) { app.add_subcommand("triage", "(not yet implemented)"); }
}  // namespace coach::adapters::cli
