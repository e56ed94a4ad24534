#include "sinks/report_sink.h"

#include <cctype>
#include <cmath>
#include <ctime>
#include <filesystem>

#include "core/error.h"
#include "sinks/atomic_file.h"

namespace ttla {
namespace {

std::string pretty(const nlohmann::json& j) { return j.dump(2) + "\n"; }

nlohmann::json optional_int(const std::optional<int64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// Lambda mapping, per target:
//   expired_stats.count            <- expired.count (the estimate when sampled; `estimated` says)
//   expired_stats.oldest_ttl       <- as_of - oldest_overdue_seconds (the deadline of the oldest
//   expired_stats.newest_ttl       <- as_of - newest_overdue_seconds  expired item, epoch seconds)
//   expired_stats.oldest_expired_hours_ago <- oldest_overdue_seconds / 3600
//   expired_stats.sample_items     <- expired.sample_items [{key, ttl, overdue_seconds}]
//   table_metrics.item_count / table_size_bytes / table_status / ttl_status / ttl_attribute
//                                   <- table_metrics (null for kinds without a table)
// A monitor Lambda watched one table, so body.expired_stats / body.table_metrics describe the
// first target; body.targets carries the same pair for every target.
nlohmann::json expired_stats(const TargetReport& t, int64_t as_of) {
  const TargetStats& s = t.stats;
  bool any = s.expired_count() > 0;
  nlohmann::json samples = nlohmann::json::array();
  for (const auto& item : s.sample_items()) {
    samples.push_back({{"key", item.key},
                       {"ttl", item.deadline},
                       {"overdue_seconds", item.overdue_seconds}});
  }
  return {{"count", t.expired_count_reported()},
          {"estimated", t.estimated},
          {"oldest_ttl", any ? nlohmann::json(static_cast<double>(as_of) -
                                              s.oldest_overdue_seconds())
                             : nlohmann::json(nullptr)},
          {"newest_ttl", any ? nlohmann::json(static_cast<double>(as_of) -
                                              s.newest_overdue_seconds())
                             : nlohmann::json(nullptr)},
          {"oldest_expired_hours_ago", s.oldest_overdue_seconds() / 3600.0},
          {"expired_bytes", s.expired_bytes()},
          {"sample_items", samples}};
}

nlohmann::json table_metrics(const TargetReport& t) {
  if (!t.table_metrics) return nullptr;
  const TableMetrics& tm = *t.table_metrics;
  return {{"item_count", optional_int(tm.item_count)},
          {"table_size_bytes", optional_int(tm.table_size_bytes)},
          {"table_status", tm.table_status},
          {"ttl_status", tm.ttl_status},
          {"ttl_attribute", tm.ttl_attribute}};
}

}  // namespace

nlohmann::json lambda_envelope(const Report& report) {
  double expired_total = 0;
  size_t anomalies = 0, critical = 0, failed = 0;
  nlohmann::json targets = nlohmann::json::array();
  for (const auto& t : report.targets) {
    if (t.has_findings()) expired_total += t.expired_count_reported();
    anomalies += t.anomalies.size();
    for (const auto& a : t.anomalies) critical += a.severity == "critical";
    failed += t.status == Status::kFailed;
    targets.push_back({{"name", t.name},
                       {"kind", t.kind},
                       {"status", std::string(to_string(t.status))},
                       // A target that measured nothing has no stats, never zeros.
                       {"expired_stats", t.has_findings() ? expired_stats(t, report.run.as_of)
                                                          : nlohmann::json(nullptr)},
                       {"table_metrics", table_metrics(t)}});
  }
  nlohmann::json body = {
      {"message", failed ? "Cleanup monitoring completed with failed targets"
                         : "Cleanup monitoring completed"},
      {"summary",
       {{"run_id", report.run.id},
        {"status", std::string(to_string(report.run.status))},
        {"as_of", report.run.as_of},
        {"targets", report.targets.size()},
        {"failed_targets", failed},
        {"expired_total", expired_total},
        {"anomalies", anomalies},
        {"critical_anomalies", critical}}},
      {"expired_stats", report.targets.empty() ? nlohmann::json(nullptr)
                                               : targets[0]["expired_stats"]},
      {"table_metrics", report.targets.empty() ? nlohmann::json(nullptr)
                                               : targets[0]["table_metrics"]},
      {"targets", targets}};
  return {{"statusCode", 200}, {"body", body}};
}

nlohmann::json report_document(const Report& report, const SinkOptions& options) {
  if (options.envelope.empty() || options.envelope == "none") {
    return report_to_json(report, options.with_state);
  }
  if (options.envelope == "lambda") return lambda_envelope(report);
  throw Error(ErrorKind::kConfig, "unknown --envelope \"" + options.envelope + "\" (expected lambda)");
}

std::string report_dir_file_name(const Report& report) {
  auto t = static_cast<time_t>(std::floor(report.run.started_at));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  std::string id;
  for (char c : report.run.id) {
    if (id.size() == 8) break;
    if (std::isalnum(static_cast<unsigned char>(c))) id += c;
  }
  if (id.empty()) id = "noid";
  return std::string("ttl-auditor-") + stamp + "-" + id + ".json";
}

void write_report_file(const Report& report, const SinkOptions& options) {
  write_file_atomic(options.report_file, pretty(report_document(report, options)));
}

std::string write_report_dir(const Report& report, const SinkOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(options.report_dir, ec);
  if (ec) {
    throw Error(ErrorKind::kIo, "cannot create report dir " + options.report_dir + ": " +
                                    ec.message());
  }
  std::string body = pretty(report_document(report, options));
  std::string path = (fs::path(options.report_dir) / report_dir_file_name(report)).string();
  write_file_atomic(path, body);
  // A copy rather than a symlink: readers that copy latest.json elsewhere get the content.
  write_file_atomic((fs::path(options.report_dir) / "latest.json").string(), body);
  return path;
}

}  // namespace ttla
