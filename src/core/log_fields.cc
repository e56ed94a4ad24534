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

std::string logfmt_field_value(const LogValue& value, bool quote_typed) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    if (quote_typed && logfmt_value_is_typed(*s)) {
      // "123" as a target name stays a string when read back: a quoted value is never typed.
      // Built by appending, not `"\"" + std::string(...)`: GCC 12 at -O3 reports a false
      // -Wrestrict on that operator+ (GCC bug 105329).
      std::string quoted;
      quoted.reserve(s->size() + 2);
      quoted += '"';
      quoted.append(*s);
      quoted += '"';
      return quoted;
    }
    return logfmt_value(*s);
  }
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (const auto* u = std::get_if<uint64_t>(&value)) return std::to_string(*u);
  if (const auto* d = std::get_if<double>(&value)) return format_log_number(*d);
  return std::get<bool>(value) ? "true" : "false";
}

std::string Fields::str() const {
  std::string text;
  for (const LogField& f : items_) {
    if (!text.empty()) text += ' ';
    text += f.key;
    text += '=';
    text += logfmt_field_value(f.value, true);
  }
  return text;
}

Fields& Fields::add(std::string_view key, std::string_view value) {
  items_.push_back({std::string(key), std::string(value)});
  return *this;
}

Fields& Fields::add(std::string_view key, double value) {
  items_.push_back({std::string(key), value});
  return *this;
}

Fields& Fields::add(std::string_view key, double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return add(key, std::isfinite(value) ? std::round(value * scale) / scale : value);
}

Fields& Fields::add(std::string_view key, bool value) {
  items_.push_back({std::string(key), value});
  return *this;
}

}  // namespace ttla
