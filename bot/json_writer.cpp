#include "bot/json_writer.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "dialog/text_input.h"

namespace coach::bot {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void AppendEscaped(std::string& out, unsigned char byte) {
  switch (byte) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      out += "\\u00";
      out += kHexDigits[byte >> 4];
      out += kHexDigits[byte & 0x0f];
  }
}

// 1 for the bytes JSON requires escaped, 2 for bytes of multi-byte UTF-8 (checked once per string), 0 otherwise.
struct ByteClasses {
  unsigned char of[256] = {};
  constexpr ByteClasses() {
    for (int byte = 0; byte < 0x20; ++byte) of[byte] = 1;
    of[static_cast<unsigned char>('"')] = 1;
    of[static_cast<unsigned char>('\\')] = 1;
    for (int byte = 0x80; byte < 0x100; ++byte) of[byte] = 2;
  }
};
constexpr ByteClasses kByteClasses;

// Whether any of the eight bytes at `bytes` is a control character, '"', '\\' or (unless the string's UTF-8 was
// checked already) non-ASCII, by the classic "has a byte less than n / equal to c" word tests (exact for "any"):
// most text has none, and then the eight bytes need no look each.
bool NeedsAttention(const char* bytes, bool utf8_checked) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
  std::uint64_t word = 0;
  std::memcpy(&word, bytes, sizeof word);
  const auto has_zero_byte = [](std::uint64_t value) { return (value - kOnes) & ~value & kHighBits; };
  const std::uint64_t below_space = (word - kOnes * 0x20) & ~word & kHighBits;
  const std::uint64_t non_ascii = utf8_checked ? 0 : word & kHighBits;
  return (non_ascii | below_space | has_zero_byte(word ^ (kOnes * '"')) | has_zero_byte(word ^ (kOnes * '\\'))) != 0;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view value) {
  const std::size_t start_size = out.size();
  // Grown geometrically: libstdc++'s reserve(n) allocates exactly n, so reserving each string's own size made
  // every string of a document reallocate and copy all the text before it.
  const std::size_t needed = start_size + value.size() + 2;
  if (needed > out.capacity()) out.reserve(std::max(needed, 2 * out.capacity()));
  out += '"';
  bool utf8_checked = false;
  const char* run_start = value.data();
  const char* const end = value.data() + value.size();
  for (const char* cursor = value.data(); cursor != end; ++cursor) {
    if (end - cursor >= 8 && !NeedsAttention(cursor, utf8_checked)) {
      cursor += 7;  // the loop's ++cursor makes it eight
      continue;
    }
    const auto byte = static_cast<unsigned char>(*cursor);
    const auto byte_class = kByteClasses.of[byte];
    if (byte_class == 0) continue;
    if (byte_class == 2) {
      if (utf8_checked) continue;
      if (!dialog::IsValidUtf8(value)) {
        // Rare (stored text is cleaned on the way in): nlohmann's replacement keeps the old behaviour exactly.
        out.resize(start_size);
        out += nlohmann::json(std::string(value)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        return;
      }
      utf8_checked = true;
      continue;
    }
    out.append(run_start, static_cast<std::size_t>(cursor - run_start));
    AppendEscaped(out, byte);
    run_start = cursor + 1;
  }
  out.append(run_start, static_cast<std::size_t>(end - run_start));
  out += '"';
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_in_container_.empty()) {
    if (!first_in_container_.back()) out_ += ',';
    first_in_container_.back() = false;
  }
}

JsonWriter& JsonWriter::BeginObject() {
  BeforeValue();
  out_ += '{';
  first_in_container_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  out_ += '}';
  first_in_container_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  BeforeValue();
  out_ += '[';
  first_in_container_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  out_ += ']';
  first_in_container_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  BeforeValue();
  AppendJsonString(out_, key);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
  BeforeValue();
  AppendJsonString(out_, value);
  return *this;
}

JsonWriter& JsonWriter::Int(std::int64_t value) {
  BeforeValue();
  out_ += std::to_string(value);
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  BeforeValue();
  out_ += value ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::Null() {
  BeforeValue();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::Value(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object:
      // The containers themselves, not items() or json iterators, which build a proxy (with a string) per element.
      BeginObject();
      for (const auto& [key, item] : value.get_ref<const nlohmann::json::object_t&>()) {
        Key(key);
        Value(item);
      }
      return EndObject();
    case nlohmann::json::value_t::array:
      BeginArray();
      for (const auto& item : value.get_ref<const nlohmann::json::array_t&>()) Value(item);
      return EndArray();
    case nlohmann::json::value_t::string:
      return String(value.get_ref<const std::string&>());
    case nlohmann::json::value_t::boolean:
      return Bool(value.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Int(value.get<std::int64_t>());
    case nlohmann::json::value_t::null:
      return Null();
    default:
      // Unsigned and floating-point numbers, binary, discarded: nlohmann's own formatting.
      BeforeValue();
      out_ += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return *this;
  }
}

JsonWriter& JsonWriter::Raw(std::string_view json_text) {
  BeforeValue();
  out_ += json_text;
  return *this;
}

std::string DumpJsonText(const nlohmann::json& value) {
  return JsonWriter().Value(value).Take();
}

}  // namespace coach::bot
