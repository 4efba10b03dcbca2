#include "dialog/reply.h"

#include <array>
#include <utility>

namespace coach::dialog {
namespace {
constexpr std::array<std::pair<ReplyKind, std::string_view>, 9> kNames{{
    {ReplyKind::normal, "normal"},
    {ReplyKind::emergency, "emergency"},
    {ReplyKind::urgent, "urgent"},
    {ReplyKind::see_professional, "see_professional"},
    {ReplyKind::plan, "plan"},
    {ReplyKind::answer, "answer"},
    {ReplyKind::not_sure, "not_sure"},
    {ReplyKind::coach, "coach"},
    {ReplyKind::system, "system"},
}};
}  // namespace

std::string_view ToString(ReplyKind kind) {
  for (const auto& [value, name] : kNames) {
    if (value == kind) return name;
  }
  return "normal";
}

ReplyKind ParseReplyKind(std::string_view name) {
  for (const auto& [value, known] : kNames) {
    if (known == name) return value;
  }
  return ReplyKind::normal;
}

}  // namespace coach::dialog
