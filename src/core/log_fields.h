#pragma once
// Log fields as `key=value` text (logfmt), typed once where they are built: numbers never in
// scientific notation (integers as integers, fractions in fixed notation), and a string that
// would read as a number or boolean is quoted, so the JSON log format keeps it a string. The log
// formatter (app/logging.h) turns these pairs into logfmt or JSON lines. No I/O.
#include <cstdint>
#include <string>
#include <string_view>

namespace ttla {

// Quotes a logfmt value when it needs it (spaces, quotes, '=', empty, control characters).
std::string logfmt_value(std::string_view value);

// Whether a bare (unquoted) logfmt value reads as a number or boolean: the log formatter types
// exactly these, so Fields quotes strings that look like them.
bool logfmt_value_is_typed(std::string_view value);

// A number as a log shows it: 3022331, 2678400, 0.25, 1.5 (never 2.6784e+06); "NaN", "+Inf",
// "-Inf" for non-finite values.
std::string format_log_number(double value);

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
  Fields& add_raw(std::string_view key, std::string_view text);
  std::string text_;
};

}  // namespace ttla
