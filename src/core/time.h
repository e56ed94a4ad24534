#pragma once
// Time in ttl-auditor is epoch seconds (int64 for instants we print, double where DynamoDB
// Numbers carry fractions). Durations are whole seconds.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ttla {

// "90s", "15m", "48h", "7d" (also "1w"); a bare integer is not accepted. nullopt when invalid:
// empty, no unit, signs (negative durations), decimals, spaces, or more than int64 seconds.
std::optional<int64_t> parse_duration(std::string_view text);
// Inverse of parse_duration for messages: 172800 -> "2d", 5400 -> "90m" (largest of d/h/m/s that
// divides exactly; weeks are never produced; 0 -> "0s").
std::string format_duration(int64_t seconds);
// Epoch seconds ("1700000000") or RFC 3339 ("2026-11-22T10:00:00Z", "...T10:00:00.250+02:00";
// 'T', 't' or ' ' separator, Z or ±hh:mm offset required). Fractional seconds truncate. A leap
// second :60 is read as :59. nullopt for anything else (negative or decimal epochs included).
std::optional<int64_t> parse_time(std::string_view text);
// Like parse_time but keeps fractions: "1700000000.25" or RFC 3339 with fractional seconds.
// Used to read run timestamps back from reports.
std::optional<double> parse_time_exact(std::string_view text);
// ISO 8601 instants as AWS services and credential sources write them: what parse_time_exact
// reads as RFC 3339, and also without a zone (read as UTC), with a ±hhmm offset, and with white
// space around. Keeps fractions. nullopt for anything else (epoch numbers included).
std::optional<double> parse_iso8601(std::string_view text);
// RFC 3339 in UTC with a Z suffix, whole seconds.
std::string format_rfc3339(int64_t epoch_seconds);
// RFC 3339 with milliseconds (for run timestamps), rounded to the nearest millisecond.
std::string format_rfc3339_ms(double epoch_seconds);
// Current wall clock, epoch seconds with fraction.
double now_seconds();
// Rounds up to a 00:00:00 UTC boundary (S3 lifecycle: deadline = creation + N days rounded up
// to the next midnight UTC). A value exactly at 00:00:00 UTC is returned unchanged; any value
// after midnight, even by one second, goes to the following midnight.
int64_t round_up_to_midnight_utc(int64_t epoch_seconds);

}  // namespace ttla
