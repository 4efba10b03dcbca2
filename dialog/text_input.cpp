#include "dialog/text_input.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace coach::dialog {
namespace {

// Length of the valid UTF-8 sequence at `pos`, or 0 when the bytes there are not one.
std::size_t ValidSequenceLength(std::string_view s, std::size_t pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  std::uint32_t code = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    code = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    code = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    code = lead & 0x07;
  } else {
    return 0;
  }
  if (pos + length > s.size()) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(pos + i) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(pos + i) & 0x3F);
  }
  static constexpr std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kMinimum[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  for (std::size_t pos = 0; pos < text.size();) {
    // Eight ASCII bytes at a time: every text on the message path (bodies, replies, stored lines) is mostly ASCII.
    std::uint64_t word = 0;
    if (pos + sizeof word <= text.size()) {
      std::memcpy(&word, text.data() + pos, sizeof word);
      if ((word & 0x8080808080808080ULL) == 0) {
        pos += sizeof word;
        continue;
      }
    }
    const std::size_t length = ValidSequenceLength(text, pos);
    if (length == 0) return false;
    pos += length;
  }
  return true;
}

std::string ReplaceInvalidUtf8(std::string_view text) {
  if (IsValidUtf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 16);
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t length = ValidSequenceLength(text, pos);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++pos;
    } else {
      out.append(text.substr(pos, length));
      pos += length;
    }
  }
  return out;
}

CleanText CleanRunnerText(std::string_view raw) {
  CleanText out;
  out.text.reserve(std::min(raw.size(), kMaxMessageBytes));
  for (std::size_t pos = 0; pos < raw.size();) {
    const std::size_t length = ValidSequenceLength(raw, pos);
    if (length == 0) {
      out.had_invalid_utf8 = true;
      out.text += "\xEF\xBF\xBD";
      ++pos;
    } else if (length == 1) {
      const unsigned char c = static_cast<unsigned char>(raw[pos]);
      // Newlines and tabs become spaces too: a chat message is one paragraph to the dialog.
      out.text += (c < 0x20 || c == 0x7F) ? ' ' : static_cast<char>(c);
      ++pos;
    } else {
      // C1 controls (U+0080..U+009F) are as unprintable as C0 ones.
      const bool c1_control = length == 2 && static_cast<unsigned char>(raw[pos]) == 0xC2 &&
                              static_cast<unsigned char>(raw[pos + 1]) < 0xA0;
      if (c1_control) {
        out.text += ' ';
      } else {
        out.text.append(raw.substr(pos, length));
      }
      pos += length;
    }
    if (out.text.size() >= kMaxMessageBytes) {
      out.truncated = pos < raw.size();
      break;
    }
  }
  const auto first = out.text.find_first_not_of(' ');
  if (first == std::string::npos) {
    out.text.clear();
  } else {
    out.text = out.text.substr(first, out.text.find_last_not_of(' ') - first + 1);
  }
  return out;
}

std::string FoldForMatching(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    const unsigned char c = static_cast<unsigned char>(text[pos]);
    // U+2018/U+2019 (curly apostrophes) and U+201C/U+201D (curly quotes) are E2 80 98..9D.
    if (c == 0xE2 && pos + 2 < text.size() && static_cast<unsigned char>(text[pos + 1]) == 0x80) {
      const unsigned char last = static_cast<unsigned char>(text[pos + 2]);
      if (last == 0x98 || last == 0x99) {
        out += '\'';
        pos += 2;
        continue;
      }
      if (last == 0x9C || last == 0x9D) {
        out += '"';
        pos += 2;
        continue;
      }
    }
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
  }
  return out;
}

}  // namespace coach::dialog
