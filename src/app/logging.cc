#include "app/logging.h"

#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>

#include <nlohmann/json.hpp>

#include "app/progress.h"

namespace ttla {
namespace {

std::mutex g_run_id_mutex;
std::string g_run_id;  // guarded by g_run_id_mutex

std::string current_run_id() {
  std::lock_guard<std::mutex> lock(g_run_id_mutex);
  return g_run_id;
}

bool is_key_char(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  return !first && ((c >= '0' && c <= '9') || c == '.' || c == '-');
}

// Length of a `key=` token starting at `i`, or 0 when there is none.
size_t key_token_length(std::string_view s, size_t i) {
  size_t j = i;
  while (j < s.size() && is_key_char(s[j], j == i)) ++j;
  if (j == i || j >= s.size() || s[j] != '=') return 0;
  return j - i;
}

// A value at `i`: "quoted with \" escapes" or bare up to the next space. Advances `i`.
std::string read_value(std::string_view s, size_t& i, bool& quoted) {
  std::string out;
  quoted = i < s.size() && s[i] == '"';
  if (quoted) {
    ++i;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\' && i + 1 < s.size()) {
        ++i;
        switch (s[i]) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          default: out += s[i];
        }
      } else {
        out += s[i];
      }
      ++i;
    }
    if (i < s.size()) ++i;  // closing quote
    return out;
  }
  while (i < s.size() && s[i] != ' ') out += s[i++];
  return out;
}

std::string format_ts(double epoch_seconds) {
  // Round to whole milliseconds first so 0.123 s does not print as .122.
  const long long total_ms = std::llround(epoch_seconds * 1000.0);
  long long whole = total_ms / 1000;
  long long rem = total_ms % 1000;
  if (rem < 0) {
    rem += 1000;
    whole -= 1;
  }
  const auto secs = static_cast<time_t>(whole);
  const int ms = std::clamp(static_cast<int>(rem), 0, 999);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

std::string_view level_name(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

// A JSON value for a bare logfmt value: numbers and booleans keep their type. Quoted values
// (Fields quotes strings that look like numbers) always stay strings.
nlohmann::json typed(const std::string& v, bool quoted) {
  if (quoted || !logfmt_value_is_typed(v)) return v;
  if (v == "true") return true;
  if (v == "false") return false;
  const double d = std::strtod(v.c_str(), nullptr);
  if (v.find_first_of(".eE") == std::string::npos && std::fabs(d) < 9e15) {
    return static_cast<int64_t>(d);
  }
  return d;
}

class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(LogFormat format) : format_(format) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const double ts =
        std::chrono::duration<double>(msg.time.time_since_epoch()).count();
    const std::string line =
        render_log_line(format_, ts, level_name(msg.level), current_run_id(),
                        std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(format_);
  }

 private:
  LogFormat format_;
};

// stderr sink that first wipes the terminal progress line so log lines never interleave with it.
class StderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    progress_clear_line_for_log();
    std::fwrite(buf.data(), 1, buf.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

}  // namespace

std::optional<LogFormat> parse_log_format(std::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return std::nullopt;
}

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view text) {
  if (text == "trace") return spdlog::level::trace;
  if (text == "debug") return spdlog::level::debug;
  if (text == "info") return spdlog::level::info;
  if (text == "warn" || text == "warning") return spdlog::level::warn;
  if (text == "error") return spdlog::level::err;
  if (text == "critical") return spdlog::level::critical;
  if (text == "off") return spdlog::level::off;
  return std::nullopt;
}

void set_log_run_id(const std::string& run_id) {
  std::lock_guard<std::mutex> lock(g_run_id_mutex);
  g_run_id = run_id;
}

void setup_logging(LogFormat format, spdlog::level::level_enum level, const std::string& run_id) {
  set_log_run_id(run_id);
  auto sink = std::make_shared<StderrSink>();
  sink->set_formatter(std::make_unique<LineFormatter>(format));
  auto logger = std::make_shared<spdlog::logger>("ttl-auditor", sink);
  logger->set_level(level);
  // Warnings and errors reach the terminal at once; info lines may batch.
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

ParsedLogLine parse_log_payload(std::string_view s) {
  ParsedLogLine out;
  size_t i = 0;
  // Free text up to the first ` key=` token is the message.
  size_t msg_end = std::string_view::npos;
  for (size_t j = 0; j < s.size(); ++j) {
    if ((j == 0 || s[j - 1] == ' ') && key_token_length(s, j) > 0) {
      msg_end = j;
      break;
    }
  }
  if (msg_end == std::string_view::npos) {
    out.msg = std::string(s);
    return out;
  }
  std::string_view free = s.substr(0, msg_end);
  while (!free.empty() && free.back() == ' ') free.remove_suffix(1);
  out.msg = std::string(free);
  i = msg_end;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    if (i >= s.size()) break;
    const size_t klen = key_token_length(s, i);
    if (klen == 0) {
      // Stray text after the fields: keep it in the message rather than lose it.
      std::string rest;
      while (i < s.size() && s[i] != ' ') rest += s[i++];
      out.msg += (out.msg.empty() ? "" : " ") + rest;
      continue;
    }
    std::string key(s.substr(i, klen));
    i += klen + 1;
    bool quoted = false;
    std::string value = read_value(s, i, quoted);
    if (key == "msg" && out.msg.empty()) {
      out.msg = std::move(value);
    } else {
      out.fields.emplace_back(std::move(key), std::move(value));
      out.quoted.push_back(quoted);
    }
  }
  return out;
}

std::string render_log_line(LogFormat format, double epoch_seconds, std::string_view level,
                            const std::string& run_id, std::string_view payload) {
  const ParsedLogLine parsed = parse_log_payload(payload);
  if (format == LogFormat::kJson) {
    nlohmann::ordered_json j;
    j["ts"] = format_ts(epoch_seconds);
    j["level"] = level;
    j["run_id"] = run_id;
    j["msg"] = parsed.msg;
    for (size_t f = 0; f < parsed.fields.size(); ++f) {
      const auto& [k, v] = parsed.fields[f];
      // Fixed keys win; a field named like one is kept under a prefixed name.
      const std::string key = (k == "ts" || k == "level" || k == "run_id") ? "field." + k : k;
      j[key] = typed(v, parsed.quoted[f]);
    }
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line = "ts=" + format_ts(epoch_seconds) + " level=" + std::string(level) +
                     " run_id=" + logfmt_value(run_id) + " msg=" + logfmt_value(parsed.msg);
  for (const auto& [k, v] : parsed.fields) {
    line += ' ';
    line += k;
    line += '=';
    line += logfmt_value(v);
  }
  return line;
}

}  // namespace ttla
