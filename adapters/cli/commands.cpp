#include "adapters/cli/commands.h"

namespace coach::adapters::cli {

void RegisterCommands(CLI::App& app) {
  AddChatCommand(app);
  AddTriageCommand(app);
  AddIndexCommand(app);
  AddAskCommand(app);
  AddServeCommand(app);
}

}  // namespace coach::adapters::cli
