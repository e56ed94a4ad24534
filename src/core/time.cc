#include "core/time.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/text.h"

namespace ttla {
namespace {

constexpr int64_t kSecondsPerDay = 86400;

struct Unit {
  char suffix;
  int64_t seconds;
};
// Largest first: format_duration picks the largest unit that divides exactly. Weeks are accepted
// on input but not produced, because config examples and lifecycle rules speak in days.
constexpr Unit kUnits[] = {{'w', 7 * kSecondsPerDay}, {'d', kSecondsPerDay}, {'h', 3600},
                           {'m', 60}, {'s', 1}};

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Reads exactly `n` ASCII digits at `pos`; advances pos.
bool read_digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  pos += n;
  return true;
}

bool expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

// RFC 3339 date-time: YYYY-MM-DD('T'|'t'|' ')hh:mm:ss[.frac](Z|z|±hh:mm). Returns whole seconds and
// the fraction separately so callers choose their precision. `lenient` (ISO 8601 as AWS peers
// write it) also accepts no zone at all (UTC) and a ±hhmm offset.
std::optional<std::pair<int64_t, double>> parse_rfc3339(std::string_view s, bool lenient = false) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(s, pos, 4, year) || !expect(s, pos, '-') || !read_digits(s, pos, 2, month) ||
      !expect(s, pos, '-') || !read_digits(s, pos, 2, day)) {
    return std::nullopt;
  }
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) return std::nullopt;
  ++pos;
  if (!read_digits(s, pos, 2, hour) || !expect(s, pos, ':') || !read_digits(s, pos, 2, minute) ||
      !expect(s, pos, ':') || !read_digits(s, pos, 2, second)) {
    return std::nullopt;
  }
  double fraction = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    double scale = 0.1;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      fraction += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;  // "." without digits
  }
  int64_t offset = 0;
  if (pos >= s.size()) {
    if (!lenient) return std::nullopt;  // the offset is mandatory in RFC 3339
  } else if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!read_digits(s, pos, 2, oh)) return std::nullopt;
    const bool colon = expect(s, pos, ':');
    if ((!colon && !lenient) || !read_digits(s, pos, 2, om)) return std::nullopt;
    if (oh > 23 || om > 59) return std::nullopt;
    offset = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;

  // A leap second (:60) is folded onto :59 of the same minute: epoch time has no room for it and
  // an audit instant one second early changes nothing.
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  if (second == 60) second = 59;
  std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                  std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  int64_t days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  int64_t seconds = days * kSecondsPerDay + hour * 3600 + minute * 60 + second - offset;
  return std::make_pair(seconds, fraction);
}

std::string format_civil(int64_t epoch_seconds, const char* fraction) {
  int64_t days = floor_div(epoch_seconds, kSecondsPerDay);
  int64_t rem = epoch_seconds - days * kSecondsPerDay;
  std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d%sZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60),
                static_cast<int>(rem % 60), fraction);
  return buf;
}

}  // namespace

std::optional<int64_t> parse_duration(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  char suffix = text.back();
  int64_t unit = 0;
  for (const Unit& u : kUnits) {
    if (u.suffix == suffix) unit = u.seconds;
  }
  if (unit == 0) return std::nullopt;
  std::string_view digits = text.substr(0, text.size() - 1);
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;  // also rejects signs, spaces and decimals
  }
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
  if (n > std::numeric_limits<int64_t>::max() / unit) return std::nullopt;
  return n * unit;
}

std::string format_duration(int64_t seconds) {
  if (seconds == 0) return "0s";
  if (seconds < 0) {
    if (seconds == std::numeric_limits<int64_t>::min()) return std::to_string(seconds) + "s";
    // Appending to a one-character string instead of `"-" + std::string&&`: at -O3 GCC 12 sees a
    // bogus overlap in the inlined insert (-Wrestrict false positive, GCC bug 105329).
    std::string out(1, '-');
    out += format_duration(-seconds);
    return out;
  }
  for (const Unit& u : kUnits) {
    if (u.suffix == 'w') continue;
    if (seconds % u.seconds == 0) return std::to_string(seconds / u.seconds) + u.suffix;
  }
  return std::to_string(seconds) + "s";
}

std::optional<int64_t> parse_time(std::string_view text) {
  if (text.empty()) return std::nullopt;
  bool all_digits = true;
  for (char c : text) all_digits = all_digits && c >= '0' && c <= '9';
  if (all_digits) {
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
    return v;
  }
  auto parsed = parse_rfc3339(text);
  if (!parsed) return std::nullopt;
  return parsed->first;  // fractions truncate: an instant is "reached" at its whole second
}

std::optional<double> parse_time_exact(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.find_first_not_of("0123456789.") == std::string_view::npos) {
    double v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v)) {
      return std::nullopt;
    }
    return v;
  }
  auto parsed = parse_rfc3339(text);
  if (!parsed) return std::nullopt;
  return static_cast<double>(parsed->first) + parsed->second;
}

std::optional<double> parse_iso8601(std::string_view text) {
  auto parsed = parse_rfc3339(trim(text), /*lenient=*/true);
  if (!parsed) return std::nullopt;
  return static_cast<double>(parsed->first) + parsed->second;
}

std::string format_rfc3339(int64_t epoch_seconds) { return format_civil(epoch_seconds, ""); }

std::string format_rfc3339_ms(double epoch_seconds) {
  if (!std::isfinite(epoch_seconds)) epoch_seconds = 0;
  auto total_ms = static_cast<int64_t>(std::llround(epoch_seconds * 1000.0));
  int64_t secs = floor_div(total_ms, 1000);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(total_ms - secs * 1000));
  return format_civil(secs, frac);
}

double now_seconds() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration<double>(now).count();
}

int64_t round_up_to_midnight_utc(int64_t epoch_seconds) {
  int64_t days = floor_div(epoch_seconds, kSecondsPerDay);
  if (days * kSecondsPerDay == epoch_seconds) return epoch_seconds;
  return (days + 1) * kSecondsPerDay;
}

}  // namespace ttla
