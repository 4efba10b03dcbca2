#include "knowledge/markdown_text.h"

#include <catch2/catch.hpp>

using coach::knowledge::MarkdownToChatText;

TEST_CASE("paragraphs keep their words and lose their markup", "[markdown]") {
  CHECK(MarkdownToChatText("# Heading\n\nSome **bold** and *soft*\nwrapped `code`.\n\nNext one.") ==
        "Heading\n\nSome bold and soft wrapped code.\n\nNext one.");
}

TEST_CASE("lists become bullet lines, ordered ones too", "[markdown]") {
  CHECK(MarkdownToChatText("Intro:\n\n- one\n- **two**\n\n1. first\n2. second\n") ==
        "Intro:\n\n• one\n• two\n\n• first\n• second");
}

TEST_CASE("nested lists are indented under their item", "[markdown]") {
  CHECK(MarkdownToChatText("- outer\n  - inner\n") == "• outer\n  • inner");
}

TEST_CASE("links keep http, https and mailto targets only", "[markdown]") {
  CHECK(MarkdownToChatText("[site](https://example.org/a) and [mail](mailto:coach@example.org)") ==
        "site (https://example.org/a) and mail (mailto:coach@example.org)");
  CHECK(MarkdownToChatText("[click](javascript:alert(1)) [file](file:///etc/passwd) [rel](/local)") ==
        "click file rel");
  CHECK(MarkdownToChatText("<https://example.org>") == "https://example.org");
}

TEST_CASE("raw HTML and images are dropped", "[markdown]") {
  CHECK(MarkdownToChatText("<div>block</div>\n\nText <b>bold</b> ![alt](http://x/y.png)") == "Text bold");
}

TEST_CASE("an empty or markup-only body gives empty text", "[markdown]") {
  CHECK(MarkdownToChatText("").empty());
  CHECK(MarkdownToChatText("\n\n<!-- nothing -->\n\n---\n").empty());
}
