#include "sinks/report_sink.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <regex>

#include "core/log.h"

#include "core/error.h"
#include "core/log_fields.h"
#include "sinks/atomic_file.h"
#include "sinks/output.h"

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

std::string write_report_file(const Report& report, const SinkOptions& options) {
  return write_output(options.report_file, pretty(report_document(report, options))).describe();
}

std::optional<int64_t> report_dir_file_time(const std::string& name) {
  // ttl-auditor-YYYYMMDDTHHMMSSZ-<1..8 alphanumerics>.json, exactly as report_dir_file_name makes.
  static const std::regex kName("ttl-auditor-(\\d{8}T\\d{6}Z)-[A-Za-z0-9]{1,8}\\.json");
  std::smatch m;
  if (!std::regex_match(name, m, kName)) return std::nullopt;
  std::tm tm{};
  if (::strptime(m[1].str().c_str(), "%Y%m%dT%H%M%SZ", &tm) == nullptr) return std::nullopt;
  return static_cast<int64_t>(::timegm(&tm));
}

std::vector<std::string> prune_report_dir(const std::string& dir, int keep, int keep_days,
                                          double now, const std::string& protect) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, int64_t>> ours;  // (name, start time)
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file(ec) || e.is_symlink(ec)) continue;
    const std::string name = e.path().filename().string();
    if (auto t = report_dir_file_time(name)) ours.emplace_back(name, *t);
  }
  if (ec) throw Error(ErrorKind::kIo, "cannot list report dir " + dir + ": " + ec.message());
  // Names sort by start time; the run id breaks ties within one second.
  std::sort(ours.begin(), ours.end());
  std::vector<std::string> removed;
  const double cutoff = now - 86400.0 * keep_days;
  for (size_t i = 0; i < ours.size(); ++i) {
    const auto& [name, started] = ours[i];
    if (name == protect) continue;
    const bool beyond_count = keep > 0 && ours.size() - i > static_cast<size_t>(keep);
    const bool too_old = keep_days > 0 && static_cast<double>(started) < cutoff;
    if (!beyond_count && !too_old) continue;
    const fs::path p = fs::path(dir) / name;
    if (fs::remove(p, ec)) {
      removed.push_back(p.string());
    } else if (ec) {
      throw Error(ErrorKind::kIo, "cannot remove old report " + p.string() + ": " + ec.message());
    }
  }
  return removed;
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
  write_output((fs::path(options.report_dir) / "latest.json").string(), body);
  if (options.keep > 0 || options.keep_days > 0) {
    const auto removed = prune_report_dir(options.report_dir, options.keep, options.keep_days,
                                          report.run.started_at, report_dir_file_name(report));
    if (!removed.empty()) {
      log::info("report dir pruned", Fields()
                                         .add("dir", options.report_dir)
                                         .add("removed", static_cast<uint64_t>(removed.size()))
                                         .add("keep", options.keep)
                                         .add("keep_days", options.keep_days));
    }
  }
  return path;
}

}  // namespace ttla
