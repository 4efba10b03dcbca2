#include "adapters/web/structured_log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <string>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace coach::adapters::web {
namespace {

std::string UtcTimestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(millis));
  return buffer;
}

}  // namespace

void ConfigureJsonLogging(std::string_view level) {
  const auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    throw std::invalid_argument("unknown log level: " + std::string(level));
  }
  spdlog::drop("coachbot");
  auto logger = spdlog::stderr_logger_mt("coachbot");
  logger->set_pattern("%v");
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void LogEvent(spdlog::level::level_enum level, std::string_view event, const nlohmann::json& fields) {
  auto& logger = *spdlog::default_logger_raw();
  if (!logger.should_log(level)) return;
  nlohmann::json line = {
      {"ts", UtcTimestamp()},
      {"level", std::string(spdlog::level::to_string_view(level).data(), spdlog::level::to_string_view(level).size())},
      {"event", event}};
  for (const auto& item : fields.items()) line[item.key()] = item.value();
  // Replacement instead of an exception: a log line must never take a request down.
  logger.log(level, "{}", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace coach::adapters::web
