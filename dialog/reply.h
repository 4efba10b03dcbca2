#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace coach::dialog {

/// A button a channel renders under a reply; sending `value` (or the label) answers the question.
struct QuickReply {
  std::string label;
  std::string value;
  bool operator==(const QuickReply& other) const { return label == other.label && value == other.value; }
};

/// Lets channels style replies: the runner must not miss an emergency instruction.
enum class ReplyKind { normal, emergency, urgent, see_professional, plan, answer, not_sure, coach, system };

std::string_view ToString(ReplyKind kind);
ReplyKind ParseReplyKind(std::string_view name);  ///< unknown names read as `normal`

/// One bot message: text (plain, never HTML) plus optional quick replies.
struct Reply {
  std::string text;
  std::vector<QuickReply> quick_replies;
  ReplyKind kind = ReplyKind::normal;
};

}  // namespace coach::dialog
