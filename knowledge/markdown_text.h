#pragma once

#include <string>
#include <string_view>

namespace coach::knowledge {

/// Turns a Markdown body into chat-ready plain text: paragraphs separated by blank lines, list items as "• " lines,
/// emphasis and headings reduced to their words, raw HTML and images dropped, and a link kept as "text (url)" only
/// when its scheme is http, https or mailto (anything else, such as javascript:, keeps just its text).
std::string MarkdownToChatText(std::string_view markdown);

}  // namespace coach::knowledge
