#include "knowledge/markdown_text.h"

#include <cmark.h>

#include <memory>
#include <string>

namespace coach::knowledge {
namespace {

bool IsSafeLink(std::string_view url) {
  auto starts_with = [&](std::string_view prefix) {
    if (url.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(url[i])) != prefix[i]) return false;
    }
    return true;
  };
  return starts_with("http://") || starts_with("https://") || starts_with("mailto:");
}

std::string Trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// Renders the inline content of a block (paragraph, heading) as one line of plain text.
void AppendInlines(cmark_node* parent, std::string& out) {
  for (cmark_node* node = cmark_node_first_child(parent); node != nullptr; node = cmark_node_next(node)) {
    switch (cmark_node_get_type(node)) {
      case CMARK_NODE_TEXT:
      case CMARK_NODE_CODE:
        out += cmark_node_get_literal(node);
        break;
      case CMARK_NODE_SOFTBREAK:
        out += ' ';
        break;
      case CMARK_NODE_LINEBREAK:
        out += '\n';
        break;
      case CMARK_NODE_EMPH:
      case CMARK_NODE_STRONG:
        AppendInlines(node, out);
        break;
      case CMARK_NODE_LINK: {
        std::string text;
        AppendInlines(node, text);
        out += text;
        const char* url = cmark_node_get_url(node);
        if (url != nullptr && IsSafeLink(url) && text != url) out += std::string(" (") + url + ")";
        break;
      }
      default:  // images, inline HTML: nothing a chat should show
        break;
    }
  }
}

void AppendBlocks(cmark_node* parent, std::string& out, int list_depth) {
  for (cmark_node* node = cmark_node_first_child(parent); node != nullptr; node = cmark_node_next(node)) {
    switch (cmark_node_get_type(node)) {
      case CMARK_NODE_PARAGRAPH:
      case CMARK_NODE_HEADING: {
        std::string line;
        AppendInlines(node, line);
        line = Trim(line);  // dropped inline HTML or images can leave spaces at the edges
        if (line.empty()) break;
        if (!out.empty()) out += "\n\n";
        out += line;
        break;
      }
      case CMARK_NODE_LIST: {
        for (cmark_node* item = cmark_node_first_child(node); item != nullptr; item = cmark_node_next(item)) {
          std::string text;
          AppendBlocks(item, text, list_depth + 1);
          if (text.empty()) continue;
          if (!out.empty()) out += list_depth == 0 && item == cmark_node_first_child(node) ? "\n\n" : "\n";
          out += std::string(static_cast<std::size_t>(list_depth) * 2, ' ') + "• " + text;
        }
        break;
      }
      case CMARK_NODE_BLOCK_QUOTE:
      case CMARK_NODE_ITEM:
        AppendBlocks(node, out, list_depth);
        break;
      case CMARK_NODE_CODE_BLOCK: {
        std::string literal = cmark_node_get_literal(node);
        while (!literal.empty() && literal.back() == '\n') literal.pop_back();
        if (literal.empty()) break;
        if (!out.empty()) out += "\n\n";
        out += literal;
        break;
      }
      default:  // raw HTML blocks and thematic breaks
        break;
    }
  }
}

}  // namespace

std::string MarkdownToChatText(std::string_view markdown) {
  std::unique_ptr<cmark_node, decltype(&cmark_node_free)> document(
      cmark_parse_document(markdown.data(), markdown.size(), CMARK_OPT_DEFAULT), &cmark_node_free);
  std::string out;
  if (document) AppendBlocks(document.get(), out, 0);
  return out;
}

}  // namespace coach::knowledge
