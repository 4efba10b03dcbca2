#pragma once

#include <string>
#include <string_view>

namespace coach::dialog {

/// A runner message made safe to read: valid UTF-8, no control characters, trimmed.
struct CleanText {
  std::string text;  ///< valid UTF-8; invalid bytes became U+FFFD, controls became spaces
  bool had_invalid_utf8 = false;
  bool truncated = false;  ///< longer than kMaxMessageBytes: only the first part is kept
};

/// Messages beyond this are cut (at a character boundary). Generous for chat, small enough that a pasted book
/// cannot stall the detector or bloat the transcript.
inline constexpr std::size_t kMaxMessageBytes = 8192;

/// Never fails: any bytes in, clean text out.
CleanText CleanRunnerText(std::string_view raw);

/// The text with every byte that is not part of a valid UTF-8 sequence replaced by U+FFFD; nothing else changes
/// (no trimming, no length limit), so offsets of valid text stay meaningful to the caller.
std::string ReplaceInvalidUtf8(std::string_view text);

/// True when `text` is valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view text);

/// Lower-cases ASCII letters and folds typographic apostrophes and quotes to ASCII, for matching.
std::string FoldForMatching(std::string_view text);

}  // namespace coach::dialog
