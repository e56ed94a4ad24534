#pragma once
// DynamoDB item classes, exactly as CONTRACT's class table. Each scanned item falls in exactly one.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ttla {

enum class ItemClass : uint8_t {
  kExpired = 0,
  kNotYetExpired,
  kMissingTtl,
  kNonNumericTtl,
  kMillisecondsTtl,
  kBeyondFiveYears,
};
inline constexpr int kItemClassCount = 6;
inline constexpr int64_t kFiveYearsSeconds = 5LL * 365 * 86400;
inline constexpr double kMillisecondsThreshold = 1e11;

// Report/metric names: "expired", "not_yet_expired", "missing_ttl", "non_numeric_ttl",
// "milliseconds_ttl", "beyond_five_years".
std::string_view class_name(ItemClass c);
// Metric label for hygiene classes: "missing", "non_numeric", "milliseconds", "beyond_five_years";
// empty for expired / not_yet_expired.
std::string_view hygiene_problem_label(ItemClass c);

// Classify a TTL attribute of type N whose value is `value` (seconds, decimals allowed).
// Checked in this order: value >= 1e11 -> milliseconds_ttl; value > as_of -> not_yet_expired;
// value >= as_of - 5y -> expired (both ends inclusive); else beyond_five_years (zero, negatives,
// -inf). NaN -> non_numeric_ttl.
ItemClass classify_number(double value, int64_t as_of);

// Parse a DynamoDB Number's text ("1700000000", "1700000000.25", "-5", "1.7E9").
// Optional sign, digits, fraction, exponent; nullopt when the text is not a finite number
// (empty, spaces, "nan", "inf", hex, trailing garbage, out of double range).
std::optional<double> parse_dynamodb_number(std::string_view text);

}  // namespace ttla
