#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <utility>

namespace coach::dialog {

/// A fixed table of an enum's stable wire names; one lookup in each direction for every enum that is persisted.
template <class Enum, std::size_t N>
struct EnumNames {
  std::array<std::pair<Enum, std::string_view>, N> entries;

  std::optional<std::string_view> NameOf(Enum value) const {
    for (const auto& [known, name] : entries) {
      if (known == value) return name;
    }
    return std::nullopt;
  }
  std::optional<Enum> ValueOf(std::string_view name) const {
    for (const auto& [value, known] : entries) {
      if (known == name) return value;
    }
    return std::nullopt;
  }
};

}  // namespace coach::dialog
