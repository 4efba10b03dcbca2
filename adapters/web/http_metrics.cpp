#include "adapters/web/http_metrics.h"

#include <sstream>

namespace coach::adapters::web {
namespace {

std::string FormatNumber(double value) {
  std::ostringstream out;
  out.precision(9);
  out << value;
  return out.str();
}

void RenderGauge(std::ostringstream& out, const std::string& name, const std::string& type, const std::string& help,
                 const std::string& label, const std::map<std::string, std::int64_t>& values) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  for (const auto& [key, value] : values) {
    out << name << '{' << label << "=\"" << EscapeLabelValue(key) << "\"} " << value << '\n';
  }
}

}  // namespace

void HttpMetrics::Record(const std::string& route, const std::string& method, int status,
                         std::chrono::nanoseconds duration) {
  const double seconds = std::chrono::duration<double>(duration).count();
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{route, method, status}];
  auto& histogram = durations_[route];
  for (std::size_t i = 0; i < kBucketBounds.size(); ++i) {
    if (seconds <= kBucketBounds[i]) ++histogram.buckets[i];
  }
  ++histogram.count;
  histogram.sum_seconds += seconds;
}

void HttpMetrics::CountTriageDecision(const std::string& level) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++triage_decisions_[level];
}

std::string HttpMetrics::Render(const ServiceGauges& gauges) const {
  std::ostringstream out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    out << "# HELP coachbot_http_requests_total HTTP requests answered, by route pattern, method and status.\n"
           "# TYPE coachbot_http_requests_total counter\n";
    for (const auto& [key, count] : requests_) {
      const auto& [route, method, status] = key;
      out << "coachbot_http_requests_total{route=\"" << EscapeLabelValue(route) << "\",method=\""
          << EscapeLabelValue(method) << "\",status=\"" << status << "\"} " << count << '\n';
    }
    out << "# HELP coachbot_http_request_duration_seconds Time from routing to the response written, by route.\n"
           "# TYPE coachbot_http_request_duration_seconds histogram\n";
    for (const auto& [route, histogram] : durations_) {
      const auto label = EscapeLabelValue(route);
      for (std::size_t i = 0; i < kBucketBounds.size(); ++i) {
        out << "coachbot_http_request_duration_seconds_bucket{route=\"" << label << "\",le=\""
            << FormatNumber(kBucketBounds[i]) << "\"} " << histogram.buckets[i] << '\n';
      }
      out << "coachbot_http_request_duration_seconds_bucket{route=\"" << label << "\",le=\"+Inf\"} " << histogram.count
          << '\n';
      out << "coachbot_http_request_duration_seconds_sum{route=\"" << label << "\"} "
          << FormatNumber(histogram.sum_seconds) << '\n';
      out << "coachbot_http_request_duration_seconds_count{route=\"" << label << "\"} " << histogram.count << '\n';
    }
  }
  std::map<std::string, std::int64_t> triage_decisions;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    triage_decisions = triage_decisions_;
  }
  RenderGauge(out, "coachbot_conversations", "gauge", "Conversations by dialog state.", "state",
              gauges.conversations_by_state);
  RenderGauge(out, "coachbot_conversations_by_status", "gauge", "Conversations by who answers them.", "status",
              gauges.conversations_by_status);
  RenderGauge(out, "coachbot_conversations_by_level", "gauge", "Conversations by their triage level.", "level",
              gauges.conversations_by_level);
  RenderGauge(out, "coachbot_open_escalations", "gauge", "Escalations not yet closed, by triage level.", "level",
              gauges.open_escalations_by_level);
  RenderGauge(out, "coachbot_triage_decisions_total", "counter",
              "Web turns that set or raised their conversation's triage level, by the level decided, since start.",
              "level", triage_decisions);
  return out.str();
}

std::string EscapeLabelValue(const std::string& value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '"') {
      escaped += "\\\"";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

}  // namespace coach::adapters::web
