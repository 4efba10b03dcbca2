#include "dialog/reply.h"

#include "dialog/enum_names.h"

namespace coach::dialog {
namespace {
constexpr EnumNames<ReplyKind, 9> kNames{{{
    {ReplyKind::normal, "normal"},
    {ReplyKind::emergency, "emergency"},
    {ReplyKind::urgent, "urgent"},
    {ReplyKind::see_professional, "see_professional"},
    {ReplyKind::plan, "plan"},
    {ReplyKind::answer, "answer"},
    {ReplyKind::not_sure, "not_sure"},
    {ReplyKind::coach, "coach"},
    {ReplyKind::system, "system"},
}}};
}  // namespace

std::string_view ToString(ReplyKind kind) {
  return kNames.NameOf(kind).value_or("normal");
}

ReplyKind ParseReplyKind(std::string_view name) {
  return kNames.ValueOf(name).value_or(ReplyKind::normal);
}

}  // namespace coach::dialog
