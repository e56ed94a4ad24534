#pragma once
// Looking things up in a JSON report (CONTRACT's report shape) from tests.
#include <string>

#include <nlohmann/json.hpp>

namespace ttla::testing {

// The target named `name` in report["targets"], nullptr when there is none.
inline const nlohmann::json* find_target(const nlohmann::json& report, const std::string& name) {
  auto targets = report.find("targets");
  if (targets == report.end() || !targets->is_array()) return nullptr;
  for (const auto& t : *targets) {
    if (t.value("name", "") == name) return &t;
  }
  return nullptr;
}

// The anomaly with rule `rule` in target["anomalies"], nullptr when it did not fire.
inline const nlohmann::json* find_anomaly(const nlohmann::json& target, const std::string& rule) {
  auto anomalies = target.find("anomalies");
  if (anomalies == target.end() || !anomalies->is_array()) return nullptr;
  for (const auto& a : *anomalies) {
    if (a.value("rule", "") == rule) return &a;
  }
  return nullptr;
}

inline bool has_anomaly(const nlohmann::json& target, const std::string& rule) {
  return find_anomaly(target, rule) != nullptr;
}

}  // namespace ttla::testing
