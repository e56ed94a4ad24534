#include "core/log.h"

#include <atomic>
#include <cmath>
#include <cstdlib>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace ttla {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};

bool fixed_key(std::string_view k) { return k == "ts" || k == "level" || k == "run_id" || k == "msg"; }

// A number as JSON: the value the text line shows, an integer when it has no fraction;
// non-finite numbers as the strings the text line shows ("NaN", "+Inf").
nlohmann::json json_number(double d) {
  const std::string text = format_log_number(d);
  if (!std::isfinite(d)) return text;
  const double shown = std::strtod(text.c_str(), nullptr);
  if (text.find_first_of(".eE") == std::string::npos && std::fabs(shown) < 9e15) {
    return static_cast<int64_t>(shown);
  }
  return shown;
}

nlohmann::json json_value(const LogValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  if (const auto* i = std::get_if<int64_t>(&value)) return *i;
  if (const auto* u = std::get_if<uint64_t>(&value)) return *u;
  if (const auto* d = std::get_if<double>(&value)) return json_number(*d);
  return std::get<bool>(value);
}

}  // namespace

void set_log_format(LogFormat format) { g_format.store(format); }
LogFormat log_format() { return g_format.load(); }

std::string render_log_body(LogFormat format, std::string_view msg, const Fields& fields) {
  if (format == LogFormat::kJson) {
    nlohmann::ordered_json j;
    j["msg"] = std::string(msg);
    for (const LogField& f : fields.items()) {
      j[fixed_key(f.key) ? "field." + f.key : f.key] = json_value(f.value);
    }
    std::string out = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return out.substr(1, out.size() - 2);  // the members, without the braces
  }
  std::string line = "msg=" + logfmt_value(msg);
  for (const LogField& f : fields.items()) {
    line += ' ';
    line += f.key;
    line += '=';
    line += logfmt_field_value(f.value, false);
  }
  return line;
}

namespace log {

void write(spdlog::level::level_enum level, std::string_view msg, const Fields& fields) {
  spdlog::logger* logger = spdlog::default_logger_raw();
  if (logger == nullptr || !logger->should_log(level)) return;
  std::string payload(1, kLogBodyMark);
  payload += render_log_body(log_format(), msg, fields);
  logger->log(level, spdlog::string_view_t(payload.data(), payload.size()));
}

void flush() {
  if (spdlog::logger* logger = spdlog::default_logger_raw()) logger->flush();
}

}  // namespace log
}  // namespace ttla
