#include "checks/anomalies.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "core/classify.h"

namespace ttla {
namespace {

constexpr const char* kWarning = "warning";
constexpr const char* kCritical = "critical";
// How many past runs (plus this one) the drain-rate regression looks at: enough to smooth one
// noisy run, few enough that a change in deletion speed shows within a working day of hourly runs.
constexpr size_t kTrendWindow = 6;

void add(TargetReport& r, std::string rule, const char* severity, std::string message,
         double value, double threshold) {
  r.anomalies.push_back(Anomaly{std::move(rule), severity, std::move(message), value, threshold});
}

// Only complete runs describe the backlog; partial and failed runs undercount it.
std::vector<HistoryPoint> usable(const std::vector<HistoryPoint>& history, double now) {
  std::vector<HistoryPoint> out;
  for (const auto& p : history) {
    if (p.status == "ok" && p.finished_at > 0 && p.finished_at <= now && std::isfinite(p.expired)) {
      out.push_back(p);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const HistoryPoint& a, const HistoryPoint& b) {
    return a.finished_at < b.finished_at;
  });
  return out;
}

std::string fmt_count(double v) {
  return std::floor(v) == v ? fmt::format("{:.0f}", v) : fmt::format("{:.1f}", v);
}

std::string fmt_age(double seconds) {
  if (seconds >= 86400) return fmt::format("{:.1f}d", seconds / 86400);
  if (seconds >= 3600) return fmt::format("{:.1f}h", seconds / 3600);
  return fmt::format("{:.0f}s", seconds);
}

void check_dynamodb_table(TargetReport& r) {
  if (!r.table_metrics) return;
  const TableMetrics& tm = *r.table_metrics;
  if (tm.ttl_status != "ENABLED") {
    std::string status = tm.ttl_status.empty() ? "unknown" : tm.ttl_status;
    add(r, "ttl_disabled", kCritical,
        fmt::format("TTL is {} on the table: DynamoDB deletes nothing", status), 0, 0);
  }
  if (!tm.table_status.empty() && tm.table_status != "ACTIVE") {
    add(r, "table_not_active", kWarning, fmt::format("table status is {}", tm.table_status), 0, 0);
  }
}

// Items the target's population holds as far as the audit saw. A DynamoDB filter examines
// (and counts in items_scanned) items it then drops: only classified items matched there.
uint64_t items_matched(const TargetReport& r) {
  uint64_t classified = 0;
  for (int c = 0; c < kItemClassCount; ++c) classified += r.stats.class_count(static_cast<ItemClass>(c));
  return r.kind == "dynamodb" ? classified : std::max(classified, r.scan.items_scanned);
}

// A population of zero is far more often a wrong path, pattern, prefix or filter than a truly
// empty store, and it would otherwise read as "0 expired", green forever.
void check_empty(TargetReport& r) {
  if (items_matched(r) > 0) return;
  if (r.extra.is_object() && r.extra.contains("dynamodb") && r.extra["dynamodb"].is_object() &&
      r.extra["dynamodb"].contains("scan_skipped")) {
    return;  // not scanned on purpose (ttl_disabled says why)
  }
  const std::string what = r.scope.empty() ? "the target" : r.scope;
  const std::string where = r.estimated ? "the sampled part of " : "";
  add(r, "target_empty", kWarning,
      fmt::format("no items matched in {}{}: check the path, pattern, prefix or filter", where, what),
      0, 1);
}

void check_backlog(TargetReport& r, const Thresholds& t) {
  double expired = r.expired_count_reported();
  std::string what = r.estimated ? "estimated expired items" : "expired items";
  if (t.expired_backlog_critical > 0 && expired > t.expired_backlog_critical) {
    add(r, "expired_backlog", kCritical,
        fmt::format("{} {} still present (critical above {})", fmt_count(expired), what,
                    fmt_count(t.expired_backlog_critical)),
        expired, t.expired_backlog_critical);
  } else if (t.expired_backlog_warning >= 0 && expired > t.expired_backlog_warning) {
    add(r, "expired_backlog", kWarning,
        fmt::format("{} {} still present (warning above {})", fmt_count(expired), what,
                    fmt_count(t.expired_backlog_warning)),
        expired, t.expired_backlog_warning);
  }
}

void check_oldest(TargetReport& r, const Thresholds& t) {
  double oldest = r.stats.oldest_overdue_seconds();
  if (t.oldest_overdue_critical > 0 && oldest > static_cast<double>(t.oldest_overdue_critical)) {
    add(r, "oldest_overdue", kCritical,
        fmt::format("oldest expired item is {} past its deadline (critical past {})",
                    fmt_age(oldest), fmt_age(static_cast<double>(t.oldest_overdue_critical))),
        oldest, static_cast<double>(t.oldest_overdue_critical));
  } else if (t.oldest_overdue_warning > 0 &&
             oldest > static_cast<double>(t.oldest_overdue_warning)) {
    add(r, "oldest_overdue", kWarning,
        fmt::format("oldest expired item is {} past its deadline (warning past {})",
                    fmt_age(oldest), fmt_age(static_cast<double>(t.oldest_overdue_warning))),
        oldest, static_cast<double>(t.oldest_overdue_warning));
  }
}

void check_hygiene(TargetReport& r, const Thresholds& t) {
  if (!r.has_hygiene || t.ttl_hygiene_warning <= 0) return;
  static constexpr ItemClass kClasses[] = {ItemClass::kMissingTtl, ItemClass::kNonNumericTtl,
                                           ItemClass::kMillisecondsTtl,
                                           ItemClass::kBeyondFiveYears};
  std::string list;
  double total = 0;
  // Sampled: the point estimate, the same number the report and the metric show (unbiased, so
  // the rule fires as often above the threshold as an exact count would; the lower bound would
  // under-fire by design). The message carries the interval.
  for (ItemClass c : kClasses) {
    const double n = r.class_count_reported(c);
    if (n >= t.ttl_hygiene_warning) {
      if (!list.empty()) list += ", ";
      list += fmt::format("{}={}", class_name(c), fmt_count(n));
      if (r.estimated) {
        const ClassEstimate& e = r.class_estimates[static_cast<size_t>(c)];
        list += fmt::format(" (estimated, 95% interval {}..{})", fmt_count(std::floor(e.low)),
                            fmt_count(std::ceil(e.high)));
      }
      total += n;
    }
  }
  if (list.empty()) return;
  add(r, "ttl_hygiene", kWarning,
      fmt::format("items DynamoDB TTL will never delete: {}", list), total,
      t.ttl_hygiene_warning);
}

void check_s3(TargetReport& r, const Thresholds& t) {
  if (r.multipart && t.stale_multipart_warning > 0 &&
      static_cast<double>(r.multipart->stale_count) >= t.stale_multipart_warning) {
    add(r, "stale_multipart", kWarning,
        fmt::format("{} incomplete multipart uploads past their abort age (oldest {})",
                    r.multipart->stale_count, fmt_age(r.multipart->oldest_age_seconds)),
        static_cast<double>(r.multipart->stale_count), t.stale_multipart_warning);
  }
  const auto& extra = r.extra;
  if (extra.is_object() && extra.contains("s3") && extra["s3"].is_object()) {
    auto it = extra["s3"].find("lifecycle_missing");
    if (it != extra["s3"].end() && it->is_boolean() && it->get<bool>()) {
      add(r, "lifecycle_missing", kWarning,
          "bucket has no lifecycle expiration rule covering the prefix: nothing expires", 0, 0);
    }
  }
}

// A number at extra[section][key] (one level of nesting in `sub`), else nullopt.
std::optional<double> extra_number(const TargetReport& r, const char* section, const char* key,
                                   const char* sub = nullptr) {
  if (!r.extra.is_object()) return std::nullopt;
  auto s = r.extra.find(section);
  if (s == r.extra.end() || !s->is_object()) return std::nullopt;
  const nlohmann::json* node = &*s;
  if (sub != nullptr) {
    auto it = node->find(sub);
    if (it == node->end() || !it->is_object()) return std::nullopt;
    node = &*it;
  }
  auto v = node->find(key);
  if (v == node->end() || !v->is_number()) return std::nullopt;
  return v->get<double>();
}

// A dead-letter queue holds messages nobody processed: visible messages above the threshold.
void check_dlq_depth(TargetReport& r, const Thresholds& t) {
  if (r.kind != "sqs") return;
  const auto visible = extra_number(r, "sqs", "visible", "messages");
  if (!visible) return;
  const char* severity = nullptr;
  double threshold = 0;
  if (t.dlq_depth_critical > 0 && *visible > t.dlq_depth_critical) {
    severity = kCritical;
    threshold = t.dlq_depth_critical;
  } else if (t.dlq_depth_warning > 0 && *visible > t.dlq_depth_warning) {
    severity = kWarning;
    threshold = t.dlq_depth_warning;
  }
  if (severity == nullptr) return;
  std::string age;
  if (auto a = extra_number(r, "sqs", "oldest_message_age_seconds")) {
    age = fmt::format(", oldest {}", fmt_age(*a));
  }
  add(r, "dlq_depth", severity,
      fmt::format("{} visible messages in the queue{} ({} above {})", fmt_count(*visible), age,
                  severity, fmt_count(threshold)),
      *visible, threshold);
}

// Files older than min_age that the database does not track.
void check_orphan_files(TargetReport& r, const Thresholds& t) {
  if (r.kind != "filesystem" || t.orphan_files_warning <= 0) return;
  const auto count = extra_number(r, "orphans", "count");
  if (!count || *count < t.orphan_files_warning) return;
  const double bytes = extra_number(r, "orphans", "bytes").value_or(0);
  add(r, "orphan_files", kWarning,
      fmt::format("{} files ({} bytes) that the database does not track", fmt_count(*count),
                  fmt_count(bytes)),
      *count, t.orphan_files_warning);
}

// The deletion section when it holds a measured CloudWatch rate, else null.
const nlohmann::json* measured_deletion(const TargetReport& r) {
  if (!r.extra.is_object()) return nullptr;
  auto it = r.extra.find("deletion");
  if (it == r.extra.end() || !it->is_object() || it->contains("error")) return nullptr;
  auto del = it->find("deleted_in_window");
  auto win = it->find("window_seconds");
  if (del == it->end() || !del->is_number() || win == it->end() || !win->is_number()) return nullptr;
  return &*it;
}

// TTL is on, a backlog sits there, its oldest item has waited longer than the whole window, and
// the window saw not one TTL deletion: the deleter is not running, which lag alone never explains.
void check_stalled(TargetReport& r, const Thresholds& t) {
  const nlohmann::json* d = measured_deletion(r);
  if (d == nullptr || !r.table_metrics || r.table_metrics->ttl_status != "ENABLED") return;
  const double deleted = (*d)["deleted_in_window"].get<double>();
  const double window = (*d)["window_seconds"].get<double>();
  const double expired = r.expired_count_reported();
  const double oldest = r.stats.oldest_overdue_seconds();
  const double min_backlog = std::max(0.0, t.expired_backlog_warning);
  if (deleted > 0 || !(expired > min_backlog) || !(oldest > window)) return;
  add(r, "ttl_stalled", kCritical,
      fmt::format("TTL is ENABLED but deleted nothing in the last {} while {} expired items wait "
                  "(oldest {} past its deadline)",
                  fmt_age(window), fmt_count(expired), fmt_age(oldest)),
      expired, min_backlog);
}

void check_growth(TargetReport& r, const Thresholds& t, const std::vector<HistoryPoint>& past) {
  if (t.growth_runs <= 0) return;
  auto runs = static_cast<size_t>(t.growth_runs);
  if (past.size() < runs) return;
  double current = r.expired_count_reported();
  // Grew in each of the last `growth_runs` runs: growth_runs strictly increasing steps ending
  // with this run.
  std::vector<double> window;
  for (size_t i = past.size() - runs; i < past.size(); ++i) window.push_back(past[i].expired);
  window.push_back(current);
  for (size_t i = 1; i < window.size(); ++i) {
    if (!(window[i] > window[i - 1])) return;
  }
  if (current - window.front() < t.growth_min_items) return;
  // Exponentially weighted mean and variance of the history (West's incremental form): the
  // newest run weighs kGrowthEwmaAlpha, older runs decay geometrically.
  double mean = past.front().expired;
  double var = 0;
  for (size_t i = 1; i < past.size(); ++i) {
    double diff = past[i].expired - mean;
    double incr = kGrowthEwmaAlpha * diff;
    mean += incr;
    var = (1 - kGrowthEwmaAlpha) * (var + diff * incr);
  }
  double limit = mean + t.growth_sigma * std::sqrt(var);
  if (!(current > limit)) return;
  add(r, "backlog_growth", kWarning,
      fmt::format("expired backlog grew in each of the last {} runs to {} (EWMA {} + {}σ = {})",
                  runs, fmt_count(current), fmt_count(std::round(mean)), t.growth_sigma,
                  fmt_count(std::round(limit))),
      current, limit);
}

}  // namespace

std::optional<BacklogTrend> backlog_trend(double current, double now,
                                          const std::vector<HistoryPoint>& history) {
  auto past = usable(history, now);
  if (past.empty()) return std::nullopt;
  if (past.size() > kTrendWindow) past.erase(past.begin(), past.end() - kTrendWindow);
  std::vector<std::pair<double, double>> pts;  // (hours relative to now, items)
  for (const auto& p : past) pts.emplace_back((p.finished_at - now) / 3600.0, p.expired);
  pts.emplace_back(0.0, current);
  double n = static_cast<double>(pts.size());
  double mx = 0, my = 0;
  for (auto& [x, y] : pts) { mx += x; my += y; }
  mx /= n;
  my /= n;
  double sxx = 0, sxy = 0;
  for (auto& [x, y] : pts) {
    sxx += (x - mx) * (x - mx);
    sxy += (x - mx) * (y - my);
  }
  if (sxx <= 0) return std::nullopt;  // all runs at the same instant: no rate
  double slope = sxy / sxx;           // items per hour
  double span_hours = -pts.front().first;
  BacklogTrend trend;
  trend.rate_items_per_hour = slope;
  // A change smaller than one item over the whole window is noise, not a direction.
  if (std::fabs(slope * span_hours) < 1.0) {
    trend.direction = "flat";
  } else if (slope < 0) {
    trend.direction = "shrinking";
    trend.drain_estimate_seconds = current <= 0 ? 0.0 : current / -slope * 3600.0;
  } else {
    trend.direction = "growing";
  }
  return trend;
}

void evaluate_anomalies(TargetReport& report, const Thresholds& thresholds,
                        const std::vector<HistoryPoint>& history, double now) {
  if (report.status == Status::kFailed) {
    add(report, "target_failed", kCritical,
        fmt::format("target failed: {}", report.error.value_or("unknown error")), 0, 0);
    return;  // no data: every other rule would be guessing
  }
  if (report.status == Status::kPartial) {
    add(report, "target_partial", kWarning,
        fmt::format("target stopped early, figures are lower bounds: {}",
                    report.error.value_or("unknown reason")),
        0, 0);
  }
  check_dynamodb_table(report);
  // Nothing read: every finding below would be a zero that means "not measured".
  if (!report.has_findings()) return;
  check_stalled(report, thresholds);
  if (report.has_expired) {
    check_empty(report);  // a queue has no items to match
    check_backlog(report, thresholds);
    check_oldest(report, thresholds);
  }
  check_hygiene(report, thresholds);
  check_s3(report, thresholds);
  check_dlq_depth(report, thresholds);
  check_orphan_files(report, thresholds);

  auto past = usable(history, now);
  // Growth and trends compare complete runs only; a partial run's count is a lower bound.
  if (report.status == Status::kOk && report.has_expired) {
    check_growth(report, thresholds, past);
    if (auto trend = backlog_trend(report.expired_count_reported(), now, past)) {
      nlohmann::json j = {{"direction", trend->direction},
                          {"rate_items_per_hour", trend->rate_items_per_hour},
                          {"drain_estimate_seconds", nullptr}};
      if (trend->drain_estimate_seconds) j["drain_estimate_seconds"] = *trend->drain_estimate_seconds;
      if (!report.extra.is_object()) report.extra = nlohmann::json::object();
      report.extra["backlog_trend"] = std::move(j);
    }
  }
}

void evaluate_anomalies(TargetReport& report, const Thresholds& thresholds,
                        const std::vector<HistoryPoint>& history) {
  double now = std::chrono::duration<double>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  evaluate_anomalies(report, thresholds, history, now);
}

bool anomalies_reach(const Report& report, const std::string& fail_on) {
  if (fail_on == "never") return false;
  bool any_severity = fail_on == "warning";  // anything else is treated as "critical"
  for (const auto& t : report.targets) {
    for (const auto& a : t.anomalies) {
      if (any_severity || a.severity == kCritical) return true;
    }
  }
  return false;
}

}  // namespace ttla
