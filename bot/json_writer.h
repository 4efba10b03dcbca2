#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace coach::bot {

/// Writes JSON text straight into a string, for the per-message paths (the answer body, the stored slots and quick
/// replies, the request log line). nlohmann's dump checks UTF-8 byte by byte through a decoder and builds a tree
/// first: about 70 instructions per output byte, a tenth of a turn. Here a string known to be valid UTF-8 is copied
/// with only the characters JSON requires escaped (invalid ones go through nlohmann with replacement, as before), and
/// the output is the same bytes nlohmann's dump(-1, ' ', false, replace) gives for the same value (tests compare).
/// Keys are written in the caller's order.
class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  /// The next value belongs to this key (inside an object).
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(std::int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  /// Any nlohmann value, written as its dump would be (objects in nlohmann's key order).
  JsonWriter& Value(const nlohmann::json& value);
  /// A value serialized before (DumpJsonText of the same value), copied as it is: the caller vouches that it is one
  /// complete JSON value.
  JsonWriter& Raw(std::string_view json_text);

  const std::string& Text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();

  std::string out_;
  std::vector<bool> first_in_container_;
  bool after_key_ = false;
};

/// Appends `value` as a JSON string literal (quotes included) to `out`.
void AppendJsonString(std::string& out, std::string_view value);

/// `value` as compact JSON text: JsonWriter().Value(value).Take().
std::string DumpJsonText(const nlohmann::json& value);

}  // namespace coach::bot
