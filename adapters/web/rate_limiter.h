#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace coach::adapters::web {

/// The verdict on one request: allowed, or how long the caller must wait (the `Retry-After` header).
struct RateDecision {
  bool allowed = true;
  std::chrono::seconds retry_after{0};
};

/// Token buckets per key (a session id, a client address): `per_minute` tokens refill evenly over a minute and
/// up to `burst` can be spent at once. per_minute == 0 disables the limiter (load tests send everything from one
/// address). Thread-safe; idle buckets are dropped so that the table cannot grow without bound.
class RateLimiter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  /// `clock` is injectable so tests control time instead of sleeping.
  RateLimiter(
      double per_minute, double burst, Clock clock = [] { return std::chrono::steady_clock::now(); });

  /// Spends one token for `key` when one is available.
  RateDecision Acquire(const std::string& key);
  bool enabled() const { return per_minute_ > 0; }

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point updated;
  };
  void DropIdleBuckets(std::chrono::steady_clock::time_point now);

  double per_minute_;
  double burst_;
  Clock clock_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::size_t next_sweep_size_ = 4096;
};

}  // namespace coach::adapters::web
