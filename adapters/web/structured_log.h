#pragma once

#include <cstdint>
#include <string_view>

#include <spdlog/common.h>
#include <nlohmann/json.hpp>

namespace coach::adapters::web {

/// Makes spdlog's default logger write bare lines to stderr (stdout is for the one human start-up line), at
/// `level` ("trace" ... "off"). Throws std::invalid_argument for an unknown level.
void ConfigureJsonLogging(std::string_view level);

/// Logs one JSON object on one line: ts (UTC, ISO 8601), level, event, then `fields`. Callers pass ids, routes,
/// statuses and timings only: never message text or anything else a runner typed.
void LogEvent(spdlog::level::level_enum level, std::string_view event,
              const nlohmann::json& fields = nlohmann::json::object());

/// The per-request line (event "http_request"): LogEvent's format without building a JSON tree for it, as it runs
/// for every request. conversation_id 0 = none.
void LogHttpRequest(spdlog::level::level_enum level, std::string_view route, std::string_view method, int status,
                    double duration_ms, std::int64_t conversation_id);

}  // namespace coach::adapters::web
