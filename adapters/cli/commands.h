#pragma once

#include <CLI/CLI.hpp>

namespace coach::adapters::cli {

/// Adds every `coachbot` subcommand to the app. Each command's file owns its flags and its run callback.
void RegisterCommands(CLI::App& app);

// One per command file; RegisterCommands calls them in the order `--help` lists them.
void AddChatCommand(CLI::App& app);
void AddTriageCommand(CLI::App& app);
void AddIndexCommand(CLI::App& app);  // adapters/cli/knowledge_commands.cpp
void AddAskCommand(CLI::App& app);    // adapters/cli/knowledge_commands.cpp
void AddServeCommand(CLI::App& app);  // adapters/web/serve_command.cpp

}  // namespace coach::adapters::cli
