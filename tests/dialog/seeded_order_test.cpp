#include "dialog/seeded_order.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <vector>

using coach::dialog::SeededOrder;

TEST_CASE("a seeded order is splitmix64: the same numbers on every machine", "[seeded_order]") {
  // splitmix64's published first outputs for seed 0.
  SeededOrder order{0};
  CHECK(order.Next() == 0xE220A8397B1DCDAFULL);
  CHECK(order.Next() == 0x6E789E6AA1B965F4ULL);
}

TEST_CASE("a seeded shuffle is a permutation and repeats for the same seed", "[seeded_order]") {
  std::vector<std::size_t> first(50);
  std::iota(first.begin(), first.end(), 0);
  auto second = first;
  SeededOrder{42}.Shuffle(first);
  SeededOrder{42}.Shuffle(second);
  CHECK(first == second);
  auto sorted = first;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> identity(50);
  std::iota(identity.begin(), identity.end(), 0);
  CHECK(sorted == identity);
  CHECK(first != identity);
  auto other = identity;
  SeededOrder{43}.Shuffle(other);
  CHECK(other != first);
}
