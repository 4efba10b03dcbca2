#include "bot/conversation_store.h"

namespace coach::bot {

std::string ToString(Author author) {
  switch (author) {
    case Author::user:
      return "user";
    case Author::bot:
      return "bot";
    case Author::coach:
      return "coach";
    case Author::system:
      return "system";
  }
  return "system";
}

std::optional<Author> ParseAuthor(const std::string& name) {
  if (name == "user") return Author::user;
  if (name == "bot") return Author::bot;
  if (name == "coach") return Author::coach;
  if (name == "system") return Author::system;
  return std::nullopt;
}

}  // namespace coach::bot
