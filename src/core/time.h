#pragma once
// Time in ttl-auditor is epoch seconds (int64 for instants we print, double where DynamoDB
// Numbers carry fractions). Durations are whole seconds.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ttla {

// "90s", "15m", "48h", "7d" (also "1w"); a bare integer is not accepted. nullopt when invalid.
std::optional<int64_t> parse_duration(std::string_view text);
// Inverse of parse_duration for messages: 172800 -> "2d", 5400 -> "90m".
std::string format_duration(int64_t seconds);
// Epoch seconds ("1700000000") or RFC 3339 ("2026-11-22T10:00:00Z", offsets allowed).
std::optional<int64_t> parse_time(std::string_view text);
// RFC 3339 in UTC with a Z suffix, whole seconds.
std::string format_rfc3339(int64_t epoch_seconds);
// RFC 3339 with milliseconds (for run timestamps).
std::string format_rfc3339_ms(double epoch_seconds);
// Current wall clock, epoch seconds with fraction.
double now_seconds();
// Next 00:00 UTC strictly after or equal to t when t is not already midnight
// (S3 lifecycle: creation + N days rounded up to the next midnight UTC).
int64_t round_up_to_midnight_utc(int64_t epoch_seconds);

}  // namespace ttla
