#pragma once
// Logging setup: spdlog to stderr as logfmt text (`ts=... level=info run_id=... msg="..." k=v`)
// or JSON lines (`{"ts":...,"level":...,"run_id":...,"msg":...,"k":v}`). Callers log
// "free text key=value ..." (build the pairs with Fields); the formatter splits the free text into
// `msg` and the pairs into fields, so one call site serves both formats. Never log secrets.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/common.h>

namespace ttla {

enum class LogFormat { kText, kJson };

std::optional<LogFormat> parse_log_format(std::string_view text);  // "text" | "json"
// trace|debug|info|warn|warning|error|critical|off
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view text);

// Installs the default spdlog logger (stderr, thread-safe). Safe to call again (e.g. per serve
// cycle); the run id is printed on every line.
void setup_logging(LogFormat format, spdlog::level::level_enum level, const std::string& run_id);
void set_log_run_id(const std::string& run_id);

// Quotes a logfmt value when it needs it (spaces, quotes, '=', empty, control characters).
std::string logfmt_value(std::string_view value);

// key=value builder: Fields().add("target", name).add("items", n).str() -> `target=x items=5`.
class Fields {
 public:
  Fields& add(std::string_view key, std::string_view value);
  Fields& add(std::string_view key, const std::string& value) { return add(key, std::string_view(value)); }
  Fields& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
  Fields& add(std::string_view key, double value);
  Fields& add(std::string_view key, int64_t value);
  Fields& add(std::string_view key, uint64_t value);
  Fields& add(std::string_view key, int value) { return add(key, static_cast<int64_t>(value)); }
  Fields& add(std::string_view key, bool value);
  const std::string& str() const { return text_; }

 private:
  std::string text_;
};

// `msg` and its fields as parsed from one logged payload (exposed for tests).
struct ParsedLogLine {
  std::string msg;
  std::vector<std::pair<std::string, std::string>> fields;
};
ParsedLogLine parse_log_payload(std::string_view payload);
// Renders one line (without the trailing newline) as the formatter does.
std::string render_log_line(LogFormat format, double epoch_seconds, std::string_view level,
                            const std::string& run_id, std::string_view payload);

}  // namespace ttla
