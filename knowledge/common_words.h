#pragma once

#include <string_view>

namespace coach::knowledge {

/// Whether `word` (lower case) is an everyday English word of five or more letters. Typo correction leaves such a
/// word alone even when the content never uses it: "bread" is not a misspelt "break", "reset" not "rest", "order"
/// not "older". Shorter words are never corrected, so the list holds none.
bool IsCommonEnglishWord(std::string_view word);

}  // namespace coach::knowledge
