#pragma once
// Structured log lines: a message and typed fields (core/log_fields.h), rendered once, straight
// from the values, as logfmt text (`msg="target audited" target=x items=5`) or as JSON members
// (`"msg":"target audited","target":"x","items":5`); the formatter (app/logging.h) adds ts,
// level and run_id in front. A value is escaped by the renderer only, so an error message with
// a quote or a newline stays one field. Never log secrets.
//   log::warn("history not recorded", Fields().add("target", name).add("error", e.what()));
#include <string>
#include <string_view>

#include <spdlog/common.h>

#include "core/log_fields.h"

namespace ttla {

enum class LogFormat { kText, kJson };

// The format lines are rendered in; set by setup_logging (text until then).
void set_log_format(LogFormat format);
LogFormat log_format();

// A payload that starts with this byte is a rendered body: the formatter copies it as is.
inline constexpr char kLogBodyMark = '\x1f';

// The part of a line after ts, level and run_id. Fields named like the fixed keys (ts, level,
// run_id, msg) are kept under `field.<name>` in JSON.
std::string render_log_body(LogFormat format, std::string_view msg, const Fields& fields);

namespace log {

void write(spdlog::level::level_enum level, std::string_view msg, const Fields& fields);

inline void trace(std::string_view msg, const Fields& fields = {}) { write(spdlog::level::trace, msg, fields); }
inline void debug(std::string_view msg, const Fields& fields = {}) { write(spdlog::level::debug, msg, fields); }
inline void info(std::string_view msg, const Fields& fields = {}) { write(spdlog::level::info, msg, fields); }
inline void warn(std::string_view msg, const Fields& fields = {}) { write(spdlog::level::warn, msg, fields); }
inline void error(std::string_view msg, const Fields& fields = {}) { write(spdlog::level::err, msg, fields); }
inline void critical(std::string_view msg, const Fields& fields = {}) {
  write(spdlog::level::critical, msg, fields);
}
// Writes buffered lines out (before printing to stderr directly, or exiting).
void flush();

}  // namespace log
}  // namespace ttla
