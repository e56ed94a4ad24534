#include "core/classify.h"

#include <charconv>
#include <cmath>

namespace ttla {

std::string_view class_name(ItemClass c) {
  switch (c) {
    case ItemClass::kExpired: return "expired";
    case ItemClass::kNotYetExpired: return "not_yet_expired";
    case ItemClass::kMissingTtl: return "missing_ttl";
    case ItemClass::kNonNumericTtl: return "non_numeric_ttl";
    case ItemClass::kMillisecondsTtl: return "milliseconds_ttl";
    case ItemClass::kBeyondFiveYears: return "beyond_five_years";
  }
  return "";
}

std::string_view hygiene_problem_label(ItemClass c) {
  switch (c) {
    case ItemClass::kMissingTtl: return "missing";
    case ItemClass::kNonNumericTtl: return "non_numeric";
    case ItemClass::kMillisecondsTtl: return "milliseconds";
    case ItemClass::kBeyondFiveYears: return "beyond_five_years";
    case ItemClass::kExpired:
    case ItemClass::kNotYetExpired: return "";
  }
  return "";
}

ItemClass classify_number(double value, int64_t as_of) {
  // NaN cannot come from parse_dynamodb_number; if a caller passes one anyway it is no usable
  // number, which is what non_numeric_ttl means.
  if (std::isnan(value)) return ItemClass::kNonNumericTtl;
  if (value >= kMillisecondsThreshold) return ItemClass::kMillisecondsTtl;
  const auto now = static_cast<double>(as_of);
  if (value > now) return ItemClass::kNotYetExpired;
  if (value >= static_cast<double>(as_of - kFiveYearsSeconds)) return ItemClass::kExpired;
  return ItemClass::kBeyondFiveYears;
}

std::optional<double> parse_dynamodb_number(std::string_view text) {
  // DynamoDB returns Numbers as decimal text: optional sign, digits, fraction, exponent.
  // from_chars has no leading '+' and no whitespace, which is the strictness we want, but it does
  // take "inf"/"nan" and hex never (general format), so those are filtered explicitly.
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) return std::nullopt;
  }
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    bool ok = (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E';
    if (!ok) return std::nullopt;
  }
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

}  // namespace ttla
