#pragma once

#include <memory>
#include <string>

#include "dialog/knowledge_source.h"

namespace coach::adapters::cli {

/// The knowledge source the terminal commands use: the content directory indexed at start. Throws (with the
/// file and line) when the content is broken, so a command never runs on half the content.
std::unique_ptr<dialog::KnowledgeSource> LoadKnowledgeForCli(const std::string& content_dir, bool quiet);

}  // namespace coach::adapters::cli
