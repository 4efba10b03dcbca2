#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace coach::dialog {

/// A splitmix64 sequence for training orders: std::shuffle's algorithm is not specified, and the learned models
/// (the emergency wording model, the knowledge topic classifier) must come out the same on every standard library.
struct SeededOrder {
  std::uint64_t state;

  std::uint64_t Next() {
    state += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  /// Fisher-Yates with Next().
  void Shuffle(std::vector<std::size_t>& order) {
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[Next() % i]);
  }
};

}  // namespace coach::dialog
