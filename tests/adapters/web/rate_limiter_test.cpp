#include "adapters/web/rate_limiter.h"

#include <catch2/catch.hpp>

using namespace coach::adapters::web;
using namespace std::chrono_literals;

namespace {

/// Time that moves only when the test says so.
struct ManualClock {
  std::chrono::steady_clock::time_point now{};
  RateLimiter::Clock function() {
    return [this] { return now; };
  }
};

}  // namespace

TEST_CASE("a burst is allowed, then the caller must wait for the refill", "[rate_limiter]") {
  ManualClock clock;
  RateLimiter limiter(60, 3, clock.function());  // one per second, three at once
  CHECK(limiter.Acquire("a").allowed);
  CHECK(limiter.Acquire("a").allowed);
  CHECK(limiter.Acquire("a").allowed);
  const auto refused = limiter.Acquire("a");
  CHECK_FALSE(refused.allowed);
  CHECK(refused.retry_after == 1s);
  clock.now += 1s;
  CHECK(limiter.Acquire("a").allowed);
  CHECK_FALSE(limiter.Acquire("a").allowed);
}

TEST_CASE("keys have separate buckets", "[rate_limiter]") {
  ManualClock clock;
  RateLimiter limiter(6, 1, clock.function());  // one per ten seconds
  CHECK(limiter.Acquire("a").allowed);
  const auto refused = limiter.Acquire("a");
  CHECK_FALSE(refused.allowed);
  CHECK(refused.retry_after == 10s);
  CHECK(limiter.Acquire("b").allowed);
  clock.now += 4s;
  CHECK(limiter.Acquire("a").retry_after == 6s);
}

TEST_CASE("a rate of zero disables the limiter", "[rate_limiter]") {
  ManualClock clock;
  RateLimiter limiter(0, 1, clock.function());
  CHECK_FALSE(limiter.enabled());
  for (int i = 0; i < 1000; ++i) REQUIRE(limiter.Acquire("a").allowed);
}

TEST_CASE("idle buckets are forgotten without changing any verdict", "[rate_limiter]") {
  ManualClock clock;
  RateLimiter limiter(60, 1, clock.function());
  for (int i = 0; i < 5000; ++i) REQUIRE(limiter.Acquire("key" + std::to_string(i)).allowed);
  CHECK_FALSE(limiter.Acquire("key1").allowed);
  clock.now += 2s;
  // The sweep runs on the next insertion past the threshold; afterwards every key starts full again.
  for (int i = 5000; i < 9000; ++i) REQUIRE(limiter.Acquire("key" + std::to_string(i)).allowed);
  CHECK(limiter.Acquire("key1").allowed);
  CHECK_FALSE(limiter.Acquire("key1").allowed);
}
