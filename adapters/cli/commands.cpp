#include "adapters/cli/commands.h"

namespace coach::adapters::cli {

void RegisterCommands(CLI::App& app) {
  AddChatCommand(app);
  AddTriageCommand(app);
  AddServeCommand(app);
}

}  // namespace coach::adapters::cli
