#include "bot/json_writer.h"

#include <catch2/catch.hpp>

#include <random>
#include <string>

using coach::bot::AppendJsonString;
using coach::bot::DumpJsonText;
using coach::bot::JsonWriter;

namespace {

std::string NlohmannDump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Quoted(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

// Random bytes drawn mostly from the characters that need care: controls, quotes, backslashes, multi-byte UTF-8
// (valid and broken), DEL and plain ASCII.
std::string RandomText(std::mt19937& random) {
  static const std::vector<std::string> pieces = {"a",
                                                  "Z",
                                                  " ",
                                                  "\"",
                                                  "\\",
                                                  "/",
                                                  "\n",
                                                  "\r",
                                                  "\t",
                                                  "\b",
                                                  "\f",
                                                  "\x01",
                                                  "\x1f",
                                                  "\x7f",
                                                  "\xc3\xa9",
                                                  "\xe2\x82\xac",
                                                  "\xf0\x9f\x8f\x83",
                                                  "\xc3",
                                                  "\xff",
                                                  "\xed\xa0\x80",
                                                  "\xe2\x82",
                                                  "u00",
                                                  "'",
                                                  "<",
                                                  std::string(1, '\0')};
  std::uniform_int_distribution<std::size_t> length(0, 24);
  std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
  std::string text;
  const auto count = length(random);
  for (std::size_t i = 0; i < count; ++i) {
    const auto& piece = pieces[pick(random)];
    text += piece;
  }
  return text;
}

}  // namespace

TEST_CASE("strings come out byte for byte as nlohmann writes them, broken UTF-8 included", "[json_writer]") {
  CHECK(Quoted("") == "\"\"");
  CHECK(Quoted("plain") == "\"plain\"");
  CHECK(Quoted("a \"quote\" and a \\ back") == R"("a \"quote\" and a \\ back")");
  CHECK(Quoted("line\nbreak\ttab\x01") == R"("line\nbreak\ttab\u0001")");
  CHECK(Quoted("caf\xc3\xa9 \xf0\x9f\x8f\x83") == "\"caf\xc3\xa9 \xf0\x9f\x8f\x83\"");
  CHECK(Quoted("broken \xff byte") == "\"broken \xef\xbf\xbd byte\"");
  std::mt19937 random(20261130);
  for (int round = 0; round < 20000; ++round) {
    const auto text = RandomText(random);
    INFO("round " << round);
    REQUIRE(Quoted(text) == NlohmannDump(nlohmann::json(text)));
  }
}

TEST_CASE("a character that needs care is found at any place in a long plain run", "[json_writer]") {
  // The writer skips plain text eight bytes at a time: each piece at every offset of runs longer than a word, with
  // and without valid UTF-8 earlier in the string (after which non-ASCII bytes no longer stop the skipping).
  const std::vector<std::string> pieces = {"\"",   "\\",       "\n", "\x1f", std::string(1, '\0'), "\x7f", "\xc3\xa9",
                                           "\xff", "\xe2\x82", " ",  "~"};
  for (const std::string prefix : {"", "caf\xc3\xa9 "}) {
    for (const auto& piece : pieces) {
      for (std::size_t length = 0; length <= 20; ++length) {
        for (std::size_t offset = 0; offset <= length; ++offset) {
          const std::string text = prefix + std::string(offset, 'x') + piece + std::string(length - offset, 'y');
          INFO("piece " << nlohmann::json(piece).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                        << " at " << offset << " of " << length);
          REQUIRE(Quoted(text) == NlohmannDump(nlohmann::json(text)));
        }
      }
    }
  }
}

TEST_CASE("any nlohmann value is written as its own dump would be", "[json_writer]") {
  const auto value = nlohmann::json::parse(R"({
    "zeta": [1, -2, 9223372036854775807, true, false, null, "x\ny"],
    "alpha": {"nested": {"b": "2", "a": "1"}, "empty_object": {}, "empty_array": []},
    "number": 1.5, "small": 1e-7, "unsigned": 18446744073709551615, "text": "caf\u00e9 \"quoted\""
  })");
  CHECK(DumpJsonText(value) == NlohmannDump(value));
  CHECK(DumpJsonText(nlohmann::json::array()) == "[]");
  CHECK(DumpJsonText(nlohmann::json::object()) == "{}");
  CHECK(DumpJsonText(nlohmann::json()) == "null");
  std::mt19937 random(7);
  for (int round = 0; round < 2000; ++round) {
    nlohmann::json slots = {{"answers", {{RandomText(random), RandomText(random)}, {"pain_score", "3"}}},
                            {"level", RandomText(random)},
                            {"list", {RandomText(random), static_cast<int>(random() % 1000) - 500}}};
    REQUIRE(DumpJsonText(slots) == NlohmannDump(slots));
  }
}

TEST_CASE("a value serialized before is written as it is, with commas in place", "[json_writer]") {
  const nlohmann::json quick_replies = nlohmann::json::parse(R"([{"label":"Yes","value":"yes"}])");
  JsonWriter raw;
  raw.BeginArray().Raw(DumpJsonText(quick_replies)).Int(1).Raw("{}").EndArray();
  JsonWriter walked;
  walked.BeginArray().Value(quick_replies).Int(1).Value(nlohmann::json::object()).EndArray();
  CHECK(raw.Text() == walked.Text());
  CHECK(raw.Text() == R"([[{"label":"Yes","value":"yes"}],1,{}])");
}

TEST_CASE("a writer builds objects and arrays in the caller's key order with commas in place", "[json_writer]") {
  JsonWriter writer;
  writer.BeginObject()
      .Key("replies")
      .BeginArray()
      .BeginObject()
      .Key("id")
      .Int(7)
      .Key("text")
      .String("Hi")
      .Key("quick_replies")
      .Value(nlohmann::json::parse(R"([{"label":"Yes","value":"yes"}])"))
      .EndObject()
      .BeginObject()
      .Key("id")
      .Int(8)
      .EndObject()
      .EndArray()
      .Key("status")
      .String("bot")
      .Key("done")
      .Bool(true)
      .Key("none")
      .Null()
      .EndObject();
  CHECK(writer.Text() ==
        R"({"replies":[{"id":7,"text":"Hi","quick_replies":[{"label":"Yes","value":"yes"}]},{"id":8}],)"
        R"("status":"bot","done":true,"none":null})");
  CHECK(nlohmann::json::parse(writer.Take())["replies"][1]["id"] == 8);
}
