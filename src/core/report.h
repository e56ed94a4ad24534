#pragma once
// The report model (CONTRACT "Report", schema_version 1). Sources fill TargetReport; checks add
// anomalies; sinks publish. JSON shape is fixed by CONTRACT and tests/schema/report.schema.json.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/stats.h"

namespace ttla {

enum class Status { kOk, kPartial, kFailed };
std::string_view to_string(Status s);
Status status_from_string(std::string_view s);
// The worse of two statuses (failed > partial > ok).
Status worst(Status a, Status b);

struct Anomaly {
  std::string rule;      // CONTRACT ids: ttl_disabled, expired_backlog, ...
  std::string severity;  // "warning" | "critical"
  std::string message;
  double value = 0;
  double threshold = 0;
};

struct ScanInfo {
  std::string mode = "full";  // "full" | "sample"
  uint64_t items_scanned = 0;
  uint64_t segments_total = 0;
  uint64_t segments_scanned = 0;
  double consumed_read_units = 0;
  double duration_seconds = 0;
  // Additions beyond CONTRACT (all optional in the JSON):
  uint64_t requests = 0;             // API requests / queries made
  double sample_fraction = 1.0;      // share of the table actually read (sample mode)
  std::optional<double> full_scan_read_units_estimate;  // what a full scan would have cost
};

struct TableMetrics {
  std::optional<int64_t> item_count;
  std::optional<int64_t> table_size_bytes;
  std::string table_status;   // "ACTIVE", ...
  std::string ttl_status;     // "ENABLED" | "DISABLED" | "ENABLING" | "DISABLING" | ""
  std::string ttl_attribute;  // the attribute audited
};

struct MultipartInfo {
  uint64_t stale_count = 0;
  double oldest_age_seconds = 0;
};

struct NoncurrentInfo {
  uint64_t expired_count = 0;
  uint64_t expired_bytes = 0;
};

struct TargetReport {
  std::string name;
  std::string kind;
  Status status = Status::kOk;
  std::optional<std::string> error;  // reason when partial/failed
  ScanInfo scan;
  TargetStats stats;

  // Sampling: when estimated, `expired.count` is the estimate and ci95 its 95% interval.
  bool estimated = false;
  double expired_estimate = 0;
  std::array<double, 2> ci95{0, 0};

  // Exact p50/p90/p99 of overdue seconds computed by the server (SQL percentile_disc); when set
  // the report shows these instead of the sketch's estimates.
  std::optional<std::array<double, 3>> exact_quantiles;

  bool has_hygiene = false;  // DynamoDB only
  std::optional<TableMetrics> table_metrics;
  std::optional<MultipartInfo> multipart;
  std::optional<NoncurrentInfo> noncurrent;
  std::vector<Anomaly> anomalies;
  // Kind-specific sections merged into the target object as-is (e.g. "s3": {...}).
  nlohmann::json extra = nlohmann::json::object();

  // The expired count the report shows: the estimate when sampled, else the exact count.
  double expired_count_reported() const {
    return estimated ? expired_estimate : static_cast<double>(stats.expired_count());
  }
};

struct RunInfo {
  std::string id;
  double started_at = 0;
  double finished_at = 0;
  int64_t as_of = 0;
  Status status = Status::kOk;
  std::optional<std::string> shard;  // "i/N" for shard reports
};

struct Report {
  RunInfo run;
  std::vector<TargetReport> targets;
};

// JSON per CONTRACT. `with_state` adds "state" per target ({"stats": TargetStats::to_state(),
// "expired_estimate", "ci95"} at full precision), used by shard reports and `ttl-auditor merge`;
// run.shard is written whenever set. expired.count is an integer (the estimate rounded when
// sampled), ci95 is rounded outwards ([count, count] when exact), quantiles are clamped to the
// exact newest/oldest overdue, and `extra` keys never replace a CONTRACT field.
nlohmann::json report_to_json(const Report& report, bool with_state = false);
// Reads a report produced with with_state=true (throws ttla::Error kParse otherwise).
Report report_from_json(const nlohmann::json& j);

// Combine shard reports of the same targets into one report equal to a single full run.
// Targets match by name (order of first appearance; a target in one part only is kept as is).
// Stats merge exactly (TargetStats::merge); scan counters (items, segments, read units,
// requests) add up, scan duration is the slowest part's; status is the worst, distinct errors
// are joined with "; "; sampled estimates add with 95% half-widths combined in quadrature.
// Run: id of the first part, earliest start, latest finish, latest as_of, worst status, no
// shard. Throws ttla::Error kConfig for no parts or one name with two kinds.
Report merge_reports(const std::vector<Report>& parts);

}  // namespace ttla
