#include "adapters/web/structured_log.h"

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include "bot/json_writer.h"

namespace coach::adapters::web {
namespace {

// Every request logs a line: the date and time up to the second are formatted once per second and thread (gmtime_r
// and snprintf were a third of the line's cost), the milliseconds each time.
std::string UtcTimestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  thread_local std::time_t formatted_second = -1;
  thread_local char up_to_second[64];
  if (seconds != formatted_second) {
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    std::snprintf(up_to_second, sizeof up_to_second, "%04d-%02d-%02dT%02d:%02d:%02d", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
    formatted_second = seconds;
  }
  std::string stamp(up_to_second);
  stamp += '.';
  stamp += static_cast<char>('0' + millis / 100);
  stamp += static_cast<char>('0' + millis / 10 % 10);
  stamp += static_cast<char>('0' + millis % 10);
  stamp += 'Z';
  return stamp;
}

/// Writes each line to stderr with one write(2) and no lock: spdlog's stderr sink holds a mutex around its
/// fwrite and flush, so under load every request thread queued behind another one's system call (a third of the
/// server's futex calls). The kernel keeps a write of up to PIPE_BUF bytes whole on a pipe and appends each
/// write whole to a file, so lines never interleave; a longer line (never one of ours so far) takes a mutex.
class LineWriteSink final : public spdlog::sinks::sink {
 public:
  void log(const spdlog::details::log_msg& message) override {
    std::string line(message.payload.data(), message.payload.size());
    line += '\n';
    if (line.size() <= PIPE_BUF) {
      WriteAll(line);
    } else {
      std::lock_guard<std::mutex> lock(long_lines_);
      WriteAll(line);
    }
  }
  void flush() override {}
  // The lines are whole JSON objects made by LogEvent and LogHttpRequest: no pattern applies.
  void set_pattern(const std::string&) override {}
  void set_formatter(std::unique_ptr<spdlog::formatter>) override {}

 private:
  static void WriteAll(std::string_view line) {
    while (!line.empty()) {
      const ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
      if (written < 0) {
        if (errno == EINTR) continue;
        return;  // stderr closed or full disk: a log line must never take a request down
      }
      line.remove_prefix(static_cast<std::size_t>(written));
    }
  }

  std::mutex long_lines_;
};

}  // namespace

void ConfigureJsonLogging(std::string_view level) {
  const auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    throw std::invalid_argument("unknown log level: " + std::string(level));
  }
  spdlog::drop("coachbot");
  auto logger = std::make_shared<spdlog::logger>("coachbot", std::make_shared<LineWriteSink>());
  spdlog::register_logger(logger);
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

namespace {

/// The line's fixed head: ts, level, event.
bot::JsonWriter LineHead(spdlog::level::level_enum level, std::string_view event) {
  bot::JsonWriter line;
  const auto level_name = spdlog::level::to_string_view(level);
  line.BeginObject()
      .Key("ts")
      .String(UtcTimestamp())
      .Key("level")
      .String(std::string_view(level_name.data(), level_name.size()))
      .Key("event")
      .String(event);
  return line;
}

}  // namespace

void LogEvent(spdlog::level::level_enum level, std::string_view event, const nlohmann::json& fields) {
  auto& logger = *spdlog::default_logger_raw();
  if (!logger.should_log(level)) return;
  auto line = LineHead(level, event);
  // Invalid UTF-8 is replaced, never thrown: a log line must never take a request down.
  for (const auto& item : fields.items()) line.Key(item.key()).Value(item.value());
  line.EndObject();
  logger.log(level, "{}", line.Text());
}

void LogHttpRequest(spdlog::level::level_enum level, std::string_view route, std::string_view method, int status,
                    double duration_ms, std::int64_t conversation_id) {
  auto& logger = *spdlog::default_logger_raw();
  if (!logger.should_log(level)) return;
  auto line = LineHead(level, "http_request");
  line.Key("route").String(route).Key("method").String(method).Key("status").Int(status);
  line.Key("duration_ms").Value(nlohmann::json(duration_ms));
  if (conversation_id != 0) line.Key("conversation_id").Int(conversation_id);
  line.EndObject();
  logger.log(level, "{}", line.Text());
}

}  // namespace coach::adapters::web
