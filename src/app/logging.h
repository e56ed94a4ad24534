#pragma once
// Logging setup: spdlog to stderr as logfmt text (`ts=... level=info run_id=... msg="..." k=v`)
// or JSON lines (`{"ts":...,"level":...,"run_id":...,"msg":...,"k":v}`). Callers log a message
// and typed fields (core/log.h: log::info("msg", Fields().add("k", v))), rendered once in the
// chosen format, so one call site serves both formats. Never log secrets.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/common.h>

#include "core/log.h"

namespace ttla {

std::optional<LogFormat> parse_log_format(std::string_view text);  // "text" | "json"
// trace|debug|info|warn|warning|error|critical|off
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view text);

// Installs the default spdlog logger (stderr, thread-safe). Safe to call again (e.g. per serve
// cycle); the run id is printed on every line.
void setup_logging(LogFormat format, spdlog::level::level_enum level, const std::string& run_id);
void set_log_run_id(const std::string& run_id);

// Renders one line (without the trailing newline) as the formatter does.
std::string render_log_line(LogFormat format, double epoch_seconds, std::string_view level,
                            const std::string& run_id, std::string_view msg,
                            const Fields& fields = {});

}  // namespace ttla
