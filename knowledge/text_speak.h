#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>

namespace coach::knowledge {

/// Chat shorthand and its plain words ("u" -> "you", "bak" -> "back"), kept as data in content/text_speak.txt and
/// applied to questions only: a runner typing "y does my bak hurt" asks what "why does my back hurt" asks, but the
/// content's words would never match the shorthand, and typo correction leaves words under five letters alone.
class TextSpeak {
 public:
  /// One entry per line, `shorthand = plain words`; blank lines and "#" comments are skipped. Throws ContentError
  /// (file:line) for a line without `=`, an empty side, a shorthand of several words or one listed twice.
  static TextSpeak Parse(const std::string& text, const std::filesystem::path& file);

  /// `question` with every shorthand word (whole word, any case) replaced by its plain words; everything else,
  /// punctuation included, stays as it was.
  std::string Normalise(std::string_view question) const;
  std::size_t size() const { return plain_by_shorthand_.size(); }

 private:
  std::unordered_map<std::string, std::string> plain_by_shorthand_;
};

}  // namespace coach::knowledge
