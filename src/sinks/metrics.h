#pragma once
// The one metric model behind the textfile, Pushgateway and `serve` outputs. Names are fixed by
// CONTRACT "Metrics" plus the additions listed in metrics.cc; per-target series carry exactly
// {target, kind} (+ one metric-specific label); no item key or object name ever becomes a label.
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/registry.h>

#include "core/report.h"

namespace ttla {

// A target "succeeded" when it completed (status ok): only then is last_success advanced.
bool target_succeeded(const TargetReport& target);

struct MetricsOptions {
  bool run_metrics = true;     // run duration, last run timestamp, build info (no target label)
  bool target_metrics = true;  // every per-target series
  // Last success timestamps known from before this run, by target name. Used for targets that did
  // not succeed now, so a failed run never moves or drops the timestamp (textfile, serve).
  std::map<std::string, double> previous_success;
  // Restrict target metrics to this target (Pushgateway groups); empty = all targets.
  std::string only_target;
  // Omit last_success for every target (Pushgateway PushAdd of a failed target must not carry it).
  bool omit_last_success = false;
};

// The model for `report` as one collectable: a prometheus::Registry of gauges and the overdue
// histogram, plus ttl_auditor_overdue_quantile_seconds as a summary-typed family (quantile series
// from the report's sketch; promtool only accepts a `quantile` label on summaries).
std::shared_ptr<prometheus::Collectable> build_metrics(const Report& report,
                                                       const MetricsOptions& options = {});

// Prometheus text exposition format 0.0.4 of a collectable (prometheus-cpp TextSerializer).
std::string serialize_metrics(const prometheus::Collectable& collectable);
std::string metrics_text(const Report& report, const MetricsOptions& options = {});

// `ttl_auditor_last_success_timestamp_seconds{...target="X"...} V` lines of an exposition text,
// by target. Lets the textfile sink carry a success timestamp across a failed run.
std::map<std::string, double> parse_last_success(const std::string& text);

// Holds the current registry and swaps it atomically after each audit, so a scrape never sees a
// half-updated model and series of removed targets disappear (the `serve` exporter).
class SwappableCollectable : public prometheus::Collectable {
 public:
  void set(std::shared_ptr<prometheus::Collectable> model);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<prometheus::Collectable> model_;
};

}  // namespace ttla
