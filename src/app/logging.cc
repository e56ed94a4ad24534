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

// The line around a rendered body: ts, level and run_id first, in the line's format.
std::string render_line(LogFormat format, double epoch_seconds, std::string_view level,
                        const std::string& run_id, std::string_view body) {
  std::string line;
  if (format == LogFormat::kJson) {
    line = "{\"ts\":\"" + format_ts(epoch_seconds) + "\",\"level\":\"" + std::string(level) +
           "\",\"run_id\":" +
           nlohmann::json(run_id).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + ",";
    line.append(body);
    line += '}';
    return line;
  }
  line = "ts=" + format_ts(epoch_seconds) + " level=" + std::string(level) + " run_id=" +
         logfmt_value(run_id) + " ";
  line.append(body);
  return line;
}

class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(LogFormat format) : format_(format) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const double ts =
        std::chrono::duration<double>(msg.time.time_since_epoch()).count();
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    // A payload from log::write is a rendered body; anything else is a bare message.
    const std::string line =
        !payload.empty() && payload.front() == kLogBodyMark
            ? render_line(format_, ts, level_name(msg.level), current_run_id(), payload.substr(1))
            : render_log_line(format_, ts, level_name(msg.level), current_run_id(), payload);
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
  set_log_format(format);
  auto sink = std::make_shared<StderrSink>();
  sink->set_formatter(std::make_unique<LineFormatter>(format));
  auto logger = std::make_shared<spdlog::logger>("ttl-auditor", sink);
  logger->set_level(level);
  // Warnings and errors reach the terminal at once; info lines may batch.
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

std::string render_log_line(LogFormat format, double epoch_seconds, std::string_view level,
                            const std::string& run_id, std::string_view msg, const Fields& fields) {
  return render_line(format, epoch_seconds, level, run_id, render_log_body(format, msg, fields));
}

}  // namespace ttla
