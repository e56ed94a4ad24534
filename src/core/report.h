#pragma once
// The report model (CONTRACT "Report", schema_version 1). Sources fill TargetReport; checks add
// anomalies; sinks publish. JSON shape is fixed by CONTRACT and tests/schema/report.schema.json.
#include <array>
#include <cstdint>
#include <functional>
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
  std::optional<uint64_t> seed;      // CONTRACT scan.seed: the sampling seed used (sample mode)
};

// A sampled estimate of one item class's table total and its 95% interval.
struct ClassEstimate {
  double estimate = 0;
  double low = 0;
  double high = 0;
};

// What a sampled DynamoDB scan read, kept so that `merge` can recompute every estimate over the
// union of the shards' segments (sampling::apply_sample_estimates) instead of adding estimates.
struct SampledSegment {
  uint64_t segment = 0;
  std::array<uint64_t, kItemClassCount> classes{};
  uint64_t scanned = 0;
  double units = 0;
};
struct SampleState {
  std::string table;              // what was sampled (DynamoDB table name)
  double fraction = 0;            // configured `sample`
  uint64_t seed = 0;
  uint64_t total_segments = 0;    // the plan's TotalSegments
  uint64_t planned_segments = 0;  // segments the plan draws, over all shards
  int shard_index = 0;            // this part's shard; (0, 1) once merged or unsharded
  int shard_count = 1;
  bool budget_stopped = false;    // a read budget ended the scan (kept: every started segment)
  std::vector<SampledSegment> segments;  // completely read segments, plan order within a part
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
  // Per class estimates (index ItemClass) when estimated: `hygiene` shows them, with
  // `hygiene_ci95`. Filled by sampling::apply_sample_estimates from `sample`.
  std::array<ClassEstimate, kItemClassCount> class_estimates{};
  std::optional<SampleState> sample;
  // False when the source cannot see sizes (DynamoDB's projection carries none): `expired.bytes`
  // is then omitted rather than reported as 0.
  bool expired_bytes_measured = true;
  // False for kinds with no deadlines of their own to audit (sqs reads queue depth, never a
  // message): `expired` is then omitted, not reported as zeros, and so are the metrics and
  // anomaly rules that read it.
  bool has_expired = true;

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

  // False when the target read nothing it could report on (stopped before its first item, or a
  // shard that leaves this target to another): `expired` and `hygiene` are then null/absent in
  // the report and absent from metrics, never zeros. A failed target never has findings.
  bool findings_measured = true;
  bool has_findings() const { return status != Status::kFailed && findings_measured; }
  // What the target audits, in words ("path /data, pattern *.jpg"), for messages; not in the JSON.
  std::string scope;

  // The expired count the report shows: the estimate when sampled, else the exact count.
  double expired_count_reported() const {
    return estimated ? expired_estimate : static_cast<double>(stats.expired_count());
  }
  // Any class's count as reported: the estimate when sampled, else the exact count.
  double class_count_reported(ItemClass c) const {
    return estimated ? class_estimates[static_cast<size_t>(c)].estimate
                     : static_cast<double>(stats.class_count(c));
  }
  // The overdue quantile (p in (0, 1)) the report and /metrics both show: exact when the server
  // computed it, else the sketch's, clamped to the exact newest/oldest overdue.
  double overdue_quantile(double p) const;
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
// exact newest/oldest overdue, and `extra` keys never replace a CONTRACT field. Sampled targets
// show every class as an estimate (`hygiene` + `hygiene_ci95`, `hygiene_estimated`) and
// `scan.seed`; the state then also carries "sample" (SampleState).
nlohmann::json report_to_json(const Report& report, bool with_state = false);
// Reads a report produced with with_state=true (throws ttla::Error kParse otherwise).
Report report_from_json(const nlohmann::json& j);

// Combine shard reports of the same targets into one report equal to a single full run.
// Targets match by name (order of first appearance; a target in one part only is kept as is).
// Stats merge exactly (TargetStats::merge); scan counters (items, segments, read units,
// requests) add up, scan duration is the slowest part's; status is the worst, distinct errors
// are joined with "; ".
// Run: id of the first part, earliest start, latest finish, the shared as_of, worst status, no
// shard. Throws ttla::Error kConfig for no parts or one name with two kinds.
//
// Validation (ttla::Error kConfig naming the part, `names[i]` or "part i"): parts written by
// `run --shard` must share N, as_of, and for each sampled target its table, plan and seed, and
// have distinct shard indexes. Missing indexes make the merged run and its targets partial with
// an error naming them. Sampled targets merge their per-segment state; `reestimate` (given by
// the app: sampling::apply_sample_estimates) then recomputes every estimate over the union, so
// N shards give what one process drawing the same segments gives. segments_total is the plan's.
Report merge_reports(const std::vector<Report>& parts, const std::vector<std::string>& names = {},
                     const std::function<void(TargetReport&)>& reestimate = {});

}  // namespace ttla
