#pragma once
// Log fields: typed key/value pairs (string, integer, number, boolean) kept as values and
// escaped once, by whoever renders them: the log formatter (core/log.h) as logfmt text or JSON,
// or str() as logfmt text. Numbers are never in scientific notation (integers as integers,
// fractions in fixed notation). No I/O.
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace ttla {

// Quotes a logfmt value when it needs it (spaces, quotes, '=', empty, control characters).
std::string logfmt_value(std::string_view value);

// Whether a bare (unquoted) logfmt value reads as a number or boolean: str() quotes strings
// that look like them, so text read back keeps them strings.
bool logfmt_value_is_typed(std::string_view value);

// A number as a log shows it: 3022331, 2678400, 0.25, 1.5 (never 2.6784e+06); "NaN", "+Inf",
// "-Inf" for non-finite values.
std::string format_log_number(double value);

using LogValue = std::variant<std::string, int64_t, uint64_t, double, bool>;

struct LogField {
  std::string key;
  LogValue value;
};

// Builder: log::info("target audited", Fields().add("target", name).add("items", n)).
class Fields {
 public:
  Fields& add(std::string_view key, std::string_view value);
  Fields& add(std::string_view key, const std::string& value) { return add(key, std::string_view(value)); }
  Fields& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
  Fields& add(std::string_view key, double value);
  // `value` rounded to `decimals` places (durations in ms, delays in s).
  Fields& add(std::string_view key, double value, int decimals);
  Fields& add(std::string_view key, bool value);
  // Any integer: signed ones as int64_t, unsigned ones as uint64_t.
  template <typename T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Fields& add(std::string_view key, T value) {
    if constexpr (std::is_signed_v<T>) {
      items_.push_back({std::string(key), static_cast<int64_t>(value)});
    } else {
      items_.push_back({std::string(key), static_cast<uint64_t>(value)});
    }
    return *this;
  }

  const std::vector<LogField>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  // logfmt text `target=x items=5`; a string that would read as a number or boolean is quoted.
  std::string str() const;

 private:
  std::vector<LogField> items_;
};

// One value as logfmt text: strings through logfmt_value (quoted when they look typed only
// when `quote_typed`), numbers through format_log_number.
std::string logfmt_field_value(const LogValue& value, bool quote_typed);

}  // namespace ttla
