#include "dialog/text_input.h"

#include <catch2/catch.hpp>

using namespace coach::dialog;

TEST_CASE("clean text keeps valid UTF-8 and emoji", "[text_input]") {
  const auto clean = CleanRunnerText("  my back \xF0\x9F\x98\xA2 hurts  ");
  CHECK(clean.text == "my back \xF0\x9F\x98\xA2 hurts");
  CHECK_FALSE(clean.had_invalid_utf8);
}

TEST_CASE("invalid UTF-8 becomes the replacement character", "[text_input]") {
  for (const char* bad : {"a\xFF"
                          "b",
                          "a\xC0\xAF"
                          "b",
                          "a\xED\xA0\x80"
                          "b",
                          "a\xE2\x82"
                          "b"}) {
    const auto clean = CleanRunnerText(bad);
    CHECK(clean.had_invalid_utf8);
    CHECK(IsValidUtf8(clean.text));
    CHECK(clean.text.front() == 'a');
    CHECK(clean.text.back() == 'b');
  }
}

TEST_CASE("a broken sequence is found at any place in a long ASCII run", "[text_input]") {
  // ASCII is skipped eight bytes at a time: every bad piece, and every good one, at every offset of longer runs.
  for (const std::string bad : {"\xFF", "\xC0\xAF", "\xED\xA0\x80", "\xE2\x82", "\xF0\x9F\x98"}) {
    for (std::size_t length = 0; length <= 20; ++length) {
      for (std::size_t offset = 0; offset <= length; ++offset) {
        const std::string before(offset, 'x');
        const std::string after(length - offset, 'y');
        INFO("offset " << offset << " of " << length);
        CHECK_FALSE(IsValidUtf8(before + bad + after));
        CHECK(IsValidUtf8(before + "\xC3\xA9\xF0\x9F\x98\xA2" + after));
      }
    }
  }
}

TEST_CASE("replacing invalid UTF-8 keeps everything else as it was", "[text_input]") {
  CHECK(ReplaceInvalidUtf8("  ok \x01 \xC3\xA9 ") == "  ok \x01 \xC3\xA9 ");
  CHECK(ReplaceInvalidUtf8("a\xFF"
                           "b\xE2\x82") ==
        "a\xEF\xBF\xBD"
        "b\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST_CASE("control characters become spaces and the text is trimmed", "[text_input]") {
  CHECK(CleanRunnerText("\x01\x02hi\tthere\r\n\x7F").text == "hi there");
  CHECK(CleanRunnerText("\xC2\x85only C1\xC2\x9F").text == "only C1");
  CHECK(CleanRunnerText(" \n\t ").text.empty());
}

TEST_CASE("a huge message is cut at a character boundary", "[text_input]") {
  std::string huge;
  for (int i = 0; i < 5000; ++i) huge += "\xC3\xA9";  // 10,000 bytes of 'é'
  const auto clean = CleanRunnerText(huge);
  CHECK(clean.truncated);
  CHECK(clean.text.size() <= kMaxMessageBytes);
  CHECK(IsValidUtf8(clean.text));
}

TEST_CASE("folding lowers ASCII and straightens curly quotes", "[text_input]") {
  CHECK(FoldForMatching("I Can\xE2\x80\x99t FEEL") == "i can't feel");
}
