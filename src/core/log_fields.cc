#include "core/log_fields.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace ttla {

bool logfmt_value_is_typed(std::string_view v) {
  if (v == "true" || v == "false") return true;
  if (v.empty() || v.size() >= 32 || v.find_first_not_of("0123456789+-.eE") != std::string_view::npos) {
    return false;
  }
  const std::string s(v);
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(d);
}

std::string logfmt_value(std::string_view value) {
  bool quote = value.empty();
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      quote = true;
      break;
    }
  }
  if (!quote) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string format_log_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[400];
  if (value == std::floor(value)) {
    std::snprintf(buf, sizeof buf, "%.0f", value);
    return buf;
  }
  // Six decimals cover microseconds and rates; trailing zeros carry nothing.
  std::snprintf(buf, sizeof buf, "%.6f", value);
  std::string out(buf);
  while (out.back() == '0') out.pop_back();
  if (out.back() == '.') out.pop_back();
  if (out == "-0") out = "0";
  return out;
}

Fields& Fields::add_raw(std::string_view key, std::string_view text) {
  if (!text_.empty()) text_ += ' ';
  text_.append(key);
  text_ += '=';
  text_.append(text);
  return *this;
}

Fields& Fields::add(std::string_view key, std::string_view value) {
  if (logfmt_value_is_typed(value)) {
    // "123" as a target name stays a string in JSON logs: a quoted value is never typed.
    // Built by appending, not `"\"" + std::string(...)`: GCC 12 at -O3 reports a false
    // -Wrestrict on that operator+ (GCC bug 105329).
    std::string quoted;
    quoted.reserve(value.size() + 2);
    quoted += '"';
    quoted.append(value);
    quoted += '"';
    return add_raw(key, quoted);
  }
  return add_raw(key, logfmt_value(value));
}

Fields& Fields::add(std::string_view key, double value) {
  return add_raw(key, format_log_number(value));
}

Fields& Fields::add(std::string_view key, int64_t value) {
  return add_raw(key, std::to_string(value));
}

Fields& Fields::add(std::string_view key, uint64_t value) {
  return add_raw(key, std::to_string(value));
}

Fields& Fields::add(std::string_view key, bool value) {
  return add_raw(key, value ? "true" : "false");
}

}  // namespace ttla
