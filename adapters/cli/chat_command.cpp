#include "adapters/cli/commands.h"

namespace coach::adapters::cli {
void AddChatCommand(CLI::App& app) { app.add_subcommand("chat", "(not yet implemented)"); }
}  // namespace coach::adapters::cli
