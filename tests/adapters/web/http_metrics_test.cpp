#include "adapters/web/http_metrics.h"

#include <map>
#include <regex>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

using namespace coach::adapters::web;
using namespace std::chrono_literals;

namespace {

/// Sample lines of a Prometheus text exposition, keyed by "name{labels}"; fails the test on a malformed line.
std::map<std::string, double> ParseExposition(const std::string& text) {
  static const std::regex sample(R"(([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?) (-?[0-9.e+-]+|\+Inf|NaN))");
  static const std::regex comment(R"(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+)");
  std::map<std::string, double> samples;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    INFO(line);
    std::smatch match;
    if (std::regex_match(line, comment)) continue;
    REQUIRE(std::regex_match(line, match, sample));
    samples[match[1]] = std::stod(match[3]);
  }
  return samples;
}

}  // namespace

TEST_CASE("requests and latencies render as Prometheus text", "[http_metrics]") {
  HttpMetrics metrics;
  metrics.Record("/api/v1/sessions", "POST", 201, 2ms);
  metrics.Record("/api/v1/sessions", "POST", 201, 200ms);
  metrics.Record("/api/v1/sessions", "POST", 429, 0ms);
  ServiceGauges gauges;
  gauges.conversations_by_state = {{"pain", 2}, {"menu", 1}};
  gauges.conversations_by_status = {{"bot", 3}, {"coach", 1}};
  gauges.open_escalations_by_level = {{"emergency", 2}};
  metrics.CountTriageDecision("self_care");
  metrics.CountTriageDecision("emergency");
  metrics.CountTriageDecision("self_care");
  const auto text = metrics.Render(gauges);
  const auto samples = ParseExposition(text);

  CHECK(samples.at(R"(coachbot_http_requests_total{route="/api/v1/sessions",method="POST",status="201"})") == 2);
  CHECK(samples.at(R"(coachbot_http_requests_total{route="/api/v1/sessions",method="POST",status="429"})") == 1);
  CHECK(samples.at(R"(coachbot_http_request_duration_seconds_bucket{route="/api/v1/sessions",le="0.001"})") == 1);
  CHECK(samples.at(R"(coachbot_http_request_duration_seconds_bucket{route="/api/v1/sessions",le="0.0025"})") == 2);
  CHECK(samples.at(R"(coachbot_http_request_duration_seconds_bucket{route="/api/v1/sessions",le="0.25"})") == 3);
  CHECK(samples.at(R"(coachbot_http_request_duration_seconds_bucket{route="/api/v1/sessions",le="+Inf"})") == 3);
  CHECK(samples.at(R"(coachbot_http_request_duration_seconds_count{route="/api/v1/sessions"})") == 3);
  CHECK(samples.at(R"(coachbot_http_request_duration_seconds_sum{route="/api/v1/sessions"})") ==
        Approx(0.202).margin(1e-9));
  CHECK(samples.at(R"(coachbot_conversations{state="pain"})") == 2);
  CHECK(samples.at(R"(coachbot_conversations_by_status{status="bot"})") == 3);
  CHECK(samples.at(R"(coachbot_open_escalations{level="emergency"})") == 2);
  CHECK(samples.at(R"(coachbot_triage_decisions_total{level="self_care"})") == 2);
  CHECK(samples.at(R"(coachbot_triage_decisions_total{level="emergency"})") == 1);
  CHECK(text.find("# TYPE coachbot_http_request_duration_seconds histogram") != std::string::npos);
}

TEST_CASE("label values are escaped", "[http_metrics]") {
  CHECK(EscapeLabelValue(R"(a"b\c)") == R"(a\"b\\c)");
  CHECK(EscapeLabelValue("a\nb") == "a\\nb");
}
