#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace coach::adapters::web {

/// Domain gauges and counters read from the service at scrape time.
struct ServiceGauges {
  std::map<std::string, std::int64_t> conversations_by_state;     ///< dialog state key ("pain", "menu"...)
  std::map<std::string, std::int64_t> conversations_by_status;    ///< "bot", "waiting_for_coach", "coach"
  std::map<std::string, std::int64_t> conversations_by_level;     ///< conversation triage level, assessed ones
  std::map<std::string, std::int64_t> open_escalations_by_level;  ///< triage level name
};

/// Request counters and latency histograms for `/metrics`, labelled by route pattern (never by raw path, whose
/// session ids would explode the label set). Thread-safe.
class HttpMetrics {
 public:
  /// Upper bounds of the latency histogram buckets, in seconds.
  static constexpr std::array<double, 12> kBucketBounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                        0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

  void Record(const std::string& route, const std::string& method, int status, std::chrono::nanoseconds duration);
  /// A turn raised its conversation's triage level to `level` (the detector's verdict that changed the outcome).
  void CountTriageDecision(const std::string& level);
  /// The Prometheus text exposition (format 0.0.4) of the HTTP metrics plus the service gauges.
  std::string Render(const ServiceGauges& gauges) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kBucketBounds.size()> buckets{};
    std::uint64_t count = 0;
    double sum_seconds = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> durations_;
  std::map<std::string, std::int64_t> triage_decisions_;
};

/// A label value escaped for the Prometheus text format.
std::string EscapeLabelValue(const std::string& value);

}  // namespace coach::adapters::web
