#include "adapters/web/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace coach::adapters::web {

RateLimiter::RateLimiter(double per_minute, double burst, Clock clock)
    : per_minute_(per_minute), burst_(std::max(1.0, burst)), clock_(std::move(clock)) {}

RateDecision RateLimiter::Acquire(const std::string& key) {
  if (!enabled()) return {};
  const auto now = clock_();
  const double per_second = per_minute_ / 60.0;
  std::lock_guard<std::mutex> lock(mutex_);
  if (buckets_.size() >= next_sweep_size_) DropIdleBuckets(now);
  auto [entry, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& bucket = entry->second;
  if (!inserted) {
    const std::chrono::duration<double> elapsed = now - bucket.updated;
    bucket.tokens = std::min(burst_, bucket.tokens + elapsed.count() * per_second);
    bucket.updated = now;
  }
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return {};
  }
  const double wait_seconds = (1.0 - bucket.tokens) / per_second;
  return {false, std::chrono::seconds(std::max<long long>(1, static_cast<long long>(std::ceil(wait_seconds))))};
}

void RateLimiter::DropIdleBuckets(std::chrono::steady_clock::time_point now) {
  const double per_second = per_minute_ / 60.0;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const std::chrono::duration<double> elapsed = now - it->second.updated;
    // A bucket that has refilled completely behaves exactly like a new one: forgetting it changes nothing.
    if (it->second.tokens + elapsed.count() * per_second >= burst_) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
  next_sweep_size_ = std::max<std::size_t>(4096, buckets_.size() * 2);
}

}  // namespace coach::adapters::web
