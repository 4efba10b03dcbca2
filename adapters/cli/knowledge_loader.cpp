#include "adapters/cli/knowledge_loader.h"

#include <iostream>

#include <CLI/CLI.hpp>

#include "knowledge/knowledge_base.h"

namespace coach::adapters::cli {

std::unique_ptr<dialog::KnowledgeSource> LoadKnowledgeForCli(const std::string& content_dir, bool quiet) {
  try {
    auto knowledge = knowledge::KnowledgeBase::FromDirectory(content_dir);
    if (!quiet) {
      std::cerr << "coachbot: " << knowledge->content().topics.size() << " topics loaded from " << content_dir << "\n";
    }
    return knowledge;
  } catch (const std::exception& error) {
    std::cerr << "coachbot: cannot load the coaching content from '" << content_dir << "': " << error.what()
              << "\n(use --content DIR or COACHBOT_CONTENT to point at the content directory)\n";
    throw CLI::RuntimeError(1);
  }
}

}  // namespace coach::adapters::cli
