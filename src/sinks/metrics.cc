#include "sinks/metrics.h"

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include "core/classify.h"
#include "sources/kinds.h"
#include "ttla_version.h"

namespace ttla {
namespace {

using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Labels;

Family<Gauge>& gauge(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

// Every family of the model, registered once per registry. Families without samples are left
// out of the exposition by prometheus-cpp, so "only when ..." series simply are not added.
struct Families {
  explicit Families(prometheus::Registry& r)
      : expired_items(gauge(r, "ttl_auditor_expired_items",
                            "Expired items still present (an estimate when the target is sampled).")),
        expired_items_ci95(gauge(r, "ttl_auditor_expired_items_ci95",
                                 "95% confidence bounds of the sampled expired-items estimate.")),
        expired_bytes(gauge(r, "ttl_auditor_expired_bytes",
                            "Bytes held by expired items still present (as scanned).")),
        oldest_overdue(gauge(r, "ttl_auditor_oldest_overdue_seconds",
                             "How long the most overdue expired item is past its deadline.")),
        newest_overdue(gauge(r, "ttl_auditor_newest_overdue_seconds",
                             "How long the least overdue expired item is past its deadline.")),
        overdue(prometheus::BuildHistogram()
                    .Name("ttl_auditor_overdue_seconds")
                    .Help("Distribution of time past deadline over expired items.")
                    .Register(r)),
        not_yet_expired(gauge(r, "ttl_auditor_not_yet_expired_items",
                              "Scanned items whose deadline is still in the future.")),
        hygiene(gauge(r, "ttl_auditor_ttl_hygiene_items",
                      "Scanned items DynamoDB TTL will never delete, by problem.")),
        anomaly(gauge(r, "ttl_auditor_anomaly",
                      "1 while an anomaly rule fires for the target, 0 when evaluated and quiet.")),
        target_success(gauge(r, "ttl_auditor_target_success",
                             "1 when the target's last audit completed, else 0.")),
        last_success(gauge(r, "ttl_auditor_last_success_timestamp_seconds",
                           "Unix time the target's audit last completed.")),
        items_scanned(gauge(r, "ttl_auditor_items_scanned",
                            "Items read from the target by the last audit.")),
        consumed_read_units(gauge(r, "ttl_auditor_consumed_read_units",
                                  "Read capacity units consumed by the last audit.")),
        requests(gauge(r, "ttl_auditor_requests", "API requests or queries made by the last audit.")),
        scan_duration(gauge(r, "ttl_auditor_scan_duration_seconds",
                            "Wall time the last audit of the target took.")),
        table_items(gauge(r, "ttl_auditor_table_items",
                          "DescribeTable ItemCount (refreshed by AWS about every six hours).")),
        table_size(gauge(r, "ttl_auditor_table_size_bytes",
                         "DescribeTable TableSizeBytes (refreshed by AWS about every six hours).")),
        ttl_enabled(gauge(r, "ttl_auditor_ttl_enabled", "1 when the table's TTL status is ENABLED.")),
        stale_multipart(gauge(r, "ttl_auditor_stale_multipart_uploads",
                              "Incomplete multipart uploads older than their abort age.")),
        multipart_oldest(gauge(r, "ttl_auditor_multipart_oldest_age_seconds",
                               "Age of the oldest stale incomplete multipart upload.")),
        noncurrent_items(gauge(r, "ttl_auditor_noncurrent_expired_items",
                               "Noncurrent object versions past their retention still present.")),
        noncurrent_bytes(gauge(r, "ttl_auditor_noncurrent_expired_bytes",
                               "Bytes of noncurrent object versions past their retention.")),
        drain_estimate(gauge(r, "ttl_auditor_backlog_drain_estimate_seconds",
                             "Time until the shrinking expired backlog reaches zero at the "
                             "recent deletion rate.")),
        deleted_per_hour(gauge(r, "ttl_auditor_ttl_deleted_items_per_hour",
                               "Items DynamoDB TTL deleted per hour over the deletion window "
                               "(CloudWatch TimeToLiveDeletedItemCount).")),
        sqs_messages(gauge(r, "ttl_auditor_sqs_messages",
                           "Messages in the queue by state (SQS's approximate counts).")),
        sqs_oldest_age(gauge(r, "ttl_auditor_sqs_oldest_message_age_seconds",
                             "Age of the oldest message in the queue (CloudWatch "
                             "ApproximateAgeOfOldestMessage; absent when not measured).")),
        orphan_files(gauge(r, "ttl_auditor_orphan_files",
                           "Files older than min_age that the database does not track.")),
        orphan_bytes(gauge(r, "ttl_auditor_orphan_bytes",
                           "Bytes held by files the database does not track.")),
        run_duration(gauge(r, "ttl_auditor_run_duration_seconds",
                           "Wall time of the last audit run, all targets.")),
        last_run(gauge(r, "ttl_auditor_last_run_timestamp_seconds",
                       "Unix time the last audit run finished, successful or not.")),
        build_info(gauge(r, "ttl_auditor_build_info", "Always 1; labels carry the build.")) {}

  Family<Gauge>& expired_items;
  Family<Gauge>& expired_items_ci95;
  Family<Gauge>& expired_bytes;
  Family<Gauge>& oldest_overdue;
  Family<Gauge>& newest_overdue;
  Family<Histogram>& overdue;
  Family<Gauge>& not_yet_expired;
  Family<Gauge>& hygiene;
  Family<Gauge>& anomaly;
  Family<Gauge>& target_success;
  Family<Gauge>& last_success;
  Family<Gauge>& items_scanned;
  Family<Gauge>& consumed_read_units;
  Family<Gauge>& requests;
  Family<Gauge>& scan_duration;
  Family<Gauge>& table_items;
  Family<Gauge>& table_size;
  Family<Gauge>& ttl_enabled;
  Family<Gauge>& stale_multipart;
  Family<Gauge>& multipart_oldest;
  Family<Gauge>& noncurrent_items;
  Family<Gauge>& noncurrent_bytes;
  Family<Gauge>& drain_estimate;
  Family<Gauge>& deleted_per_hour;
  Family<Gauge>& sqs_messages;
  Family<Gauge>& sqs_oldest_age;
  Family<Gauge>& orphan_files;
  Family<Gauge>& orphan_bytes;
  Family<Gauge>& run_duration;
  Family<Gauge>& last_run;
  Family<Gauge>& build_info;
  // ttl_auditor_overdue_quantile_seconds, one summary metric per target.
  std::vector<prometheus::ClientMetric> quantiles;
  // ttl_auditor_deletion_latency_seconds, a summary per target that has an estimate.
  std::vector<prometheus::ClientMetric> deletion_latency;
};

// The registry plus the hand-built summary family.
class ModelCollectable : public prometheus::Collectable {
 public:
  ModelCollectable(std::shared_ptr<prometheus::Registry> registry,
                   std::vector<prometheus::MetricFamily> extra)
      : registry_(std::move(registry)), extra_(std::move(extra)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    auto families = registry_->Collect();
    families.insert(families.end(), extra_.begin(), extra_.end());
    return families;
  }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<prometheus::MetricFamily> extra_;
};

Labels with(const Labels& base, const std::string& key, const std::string& value) {
  Labels l = base;
  l[key] = value;
  return l;
}

void set(Family<Gauge>& f, const Labels& labels, double value) { f.Add(labels).Set(value); }

// A number at section[key] of a report's kind-specific sections, if present.
std::optional<double> number_at(const nlohmann::json& section, const char* key) {
  if (!section.is_object()) return std::nullopt;
  auto it = section.find(key);
  if (it == section.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

// Series of the kind-specific report sections: sqs (queue depth, oldest message age) and
// filesystem orphans. Only what the report measured is exported.
void add_kind_sections(Families& f, const TargetReport& t, const Labels& base) {
  if (!t.extra.is_object()) return;
  if (t.kind == "sqs" && t.extra.contains("sqs")) {
    const nlohmann::json& q = t.extra["sqs"];
    const nlohmann::json messages = q.is_object() ? q.value("messages", nlohmann::json()) : nlohmann::json();
    for (const char* state : {"visible", "in_flight", "delayed"}) {
      if (auto v = number_at(messages, state)) set(f.sqs_messages, with(base, "state", state), *v);
    }
    if (auto age = number_at(q, "oldest_message_age_seconds")) set(f.sqs_oldest_age, base, *age);
  }
  if (t.kind == "filesystem" && t.extra.contains("orphans")) {
    const nlohmann::json& o = t.extra["orphans"];
    if (auto n = number_at(o, "count")) set(f.orphan_files, base, *n);
    if (auto b = number_at(o, "bytes")) set(f.orphan_bytes, base, *b);
  }
}

void add_deletion_latency(Families& f, const Labels& base, const nlohmann::json& del);

void add_target(Families& f, const TargetReport& t, const RunInfo& run,
                const MetricsOptions& options) {
  const Labels base{{"target", t.name}, {"kind", t.kind}};
  bool ok = target_succeeded(t);

  set(f.target_success, base, ok ? 1 : 0);
  if (!options.omit_last_success) {
    if (ok) {
      set(f.last_success, base, run.finished_at);
    } else if (auto it = options.previous_success.find(t.name);
               it != options.previous_success.end()) {
      set(f.last_success, base, it->second);
    }
  }

  // Anomalies: every evaluated (rule, severity) pair, 1 for those in the report.
  std::set<std::pair<std::string, std::string>> firing;
  for (const auto& a : t.anomalies) firing.emplace(a.rule, a.severity);
  for (const auto& [rule, severity] : evaluated_rules(t)) {
    set(f.anomaly, with(with(base, "rule", rule), "severity", severity),
        firing.count({rule, severity}) ? 1 : 0);
  }

  // What the audit cost is known even when it failed half way.
  set(f.items_scanned, base, static_cast<double>(t.scan.items_scanned));
  set(f.consumed_read_units, base, t.scan.consumed_read_units);
  set(f.requests, base, static_cast<double>(t.scan.requests));
  set(f.scan_duration, base, t.scan.duration_seconds);

  // A failed target, or one stopped before it read anything, has no findings: exporting zeros
  // would resolve live backlog alerts.
  if (!t.has_findings()) return;

  add_kind_sections(f, t, base);
  if (!t.has_expired) return;  // no deadlines audited: no expired/overdue series, not zeros

  const TargetStats& s = t.stats;
  set(f.expired_items, base, t.expired_count_reported());
  if (t.estimated) {
    set(f.expired_items_ci95, with(base, "bound", "lower"), t.ci95[0]);
    set(f.expired_items_ci95, with(base, "bound", "upper"), t.ci95[1]);
  }
  if (t.expired_bytes_measured) set(f.expired_bytes, base, static_cast<double>(s.expired_bytes()));
  set(f.oldest_overdue, base, s.oldest_overdue_seconds());
  set(f.newest_overdue, base, s.newest_overdue_seconds());
  // Quantiles from the mergeable sketch (within 1%), exported with the summary's own count and
  // sum so the family is a well-formed summary.
  prometheus::ClientMetric qm;
  for (const auto& [name, value] : base) qm.label.push_back({name, value});
  qm.summary.sample_count = s.expired_count();
  qm.summary.sample_sum = s.histogram().sum();
  for (double q : {0.5, 0.9, 0.99}) {
    // The very value the report shows (exact, or the sketch's clamped to the extremes).
    qm.summary.quantile.push_back({q, t.overdue_quantile(q)});
  }
  f.quantiles.push_back(std::move(qm));

  // Cumulative report histogram -> per-bucket increments, as prometheus-cpp wants them.
  const auto& bounds = OverdueHistogram::bounds();
  auto cumulative = s.histogram().cumulative();
  std::vector<double> increments(cumulative.size(), 0.0);
  for (size_t i = 0; i < cumulative.size(); ++i) {
    uint64_t prev = i == 0 ? 0 : cumulative[i - 1];
    increments[i] = static_cast<double>(cumulative[i] >= prev ? cumulative[i] - prev : 0);
  }
  auto& h = f.overdue.Add(base, prometheus::Histogram::BucketBoundaries(bounds));
  if (increments.size() == bounds.size() + 1) h.ObserveMultiple(increments, s.histogram().sum());

  // Estimates when sampled, like ttl_auditor_expired_items.
  set(f.not_yet_expired, base, t.class_count_reported(ItemClass::kNotYetExpired));
  if (t.has_hygiene) {
    static constexpr ItemClass kHygiene[] = {ItemClass::kMissingTtl, ItemClass::kNonNumericTtl,
                                             ItemClass::kMillisecondsTtl,
                                             ItemClass::kBeyondFiveYears};
    for (ItemClass c : kHygiene) {
      set(f.hygiene, with(base, "problem", std::string(hygiene_problem_label(c))),
          t.class_count_reported(c));
    }
  }

  if (t.table_metrics) {
    const TableMetrics& tm = *t.table_metrics;
    if (tm.item_count) set(f.table_items, base, static_cast<double>(*tm.item_count));
    if (tm.table_size_bytes) set(f.table_size, base, static_cast<double>(*tm.table_size_bytes));
    set(f.ttl_enabled, base, tm.ttl_status == "ENABLED" ? 1 : 0);
  }
  if (t.multipart) {
    set(f.stale_multipart, base, static_cast<double>(t.multipart->stale_count));
    set(f.multipart_oldest, base, t.multipart->oldest_age_seconds);
  }
  if (t.noncurrent) {
    set(f.noncurrent_items, base, static_cast<double>(t.noncurrent->expired_count));
    set(f.noncurrent_bytes, base, static_cast<double>(t.noncurrent->expired_bytes));
  }
  if (t.extra.is_object()) {
    // The drain estimate comes from the measured deletion rate when there is one, else from the
    // backlog's trend over past runs.
    bool drain_set = false;
    auto del = t.extra.find("deletion");
    if (del != t.extra.end() && del->is_object() && !del->contains("error")) {
      auto rate = del->find("rate_per_hour");
      if (rate != del->end() && rate->is_number()) set(f.deleted_per_hour, base, rate->get<double>());
      auto eta = del->find("drain_eta_seconds");
      if (eta != del->end() && eta->is_number()) {
        set(f.drain_estimate, base, eta->get<double>());
        drain_set = true;
      }
    }
    if (del != t.extra.end() && del->is_object()) add_deletion_latency(f, base, *del);
    auto trend = t.extra.find("backlog_trend");
    if (!drain_set && trend != t.extra.end() && trend->is_object()) {
      auto d = trend->find("drain_estimate_seconds");
      auto dir = trend->find("direction");
      if (d != trend->end() && d->is_number() && dir != trend->end() && *dir == "shrinking") {
        set(f.drain_estimate, base, d->get<double>());
      }
    }
  }
}

// A summary (promtool wants `quantile` on summaries only): the quantiles the report shows, the
// deletions observed as the count and count x estimated mean as the sum. Only estimated
// quantiles: a latency_error leaves the section without them, and no series is invented.
void add_deletion_latency(Families& f, const Labels& base, const nlohmann::json& del) {
  auto lq = del.find("latency_seconds_quantiles");
  if (lq == del.end() || !lq->is_object()) return;
  prometheus::ClientMetric m;
  for (const auto& [name, value] : base) m.label.push_back({name, value});
  for (const auto& [key, q] : {std::pair<const char*, double>{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}}) {
    auto v = lq->find(key);
    if (v != lq->end() && v->is_number()) m.summary.quantile.push_back({q, v->get<double>()});
  }
  m.summary.sample_count = del.value("latency_observations", uint64_t{0});
  m.summary.sample_sum = static_cast<double>(m.summary.sample_count) * del.value("latency_mean_seconds", 0.0);
  f.deletion_latency.push_back(std::move(m));
}

void add_run(Families& f, const Report& report) {
  set(f.run_duration, {}, std::max(0.0, report.run.finished_at - report.run.started_at));
  set(f.last_run, {}, report.run.finished_at);
  set(f.build_info, {{"version", TTLA_VERSION}}, 1);
}

}  // namespace

bool target_succeeded(const TargetReport& target) { return target.status == Status::kOk; }

std::vector<std::pair<std::string, std::string>> evaluated_rules(const TargetReport& t) {
  std::vector<std::pair<std::string, std::string>> rules = {{"target_failed", "critical"},
                                                            {"target_partial", "warning"}};
  if (t.has_findings() && t.has_expired) {
    rules.emplace_back("target_empty", "warning");
    rules.insert(rules.end(), {{"expired_backlog", "warning"},
                               {"expired_backlog", "critical"},
                               {"oldest_overdue", "warning"},
                               {"oldest_overdue", "critical"},
                               {"backlog_growth", "warning"}});
  }
  if (t.status != Status::kFailed) {
    // The kind's own rules (its row in sources/kinds.cc); a rule tied to a section only when the
    // report has it.
    if (const Kind* kind = find_kind(t.kind)) {
      for (const KindRule& r : kind->rules) {
        if (r.section.empty() || (t.extra.is_object() && t.extra.contains(r.section))) {
          rules.emplace_back(r.rule, r.severity);
        }
      }
    }
    // Table health is read wherever a table was described.
    if (t.table_metrics) {
      static const std::vector<std::pair<std::string, std::string>> kTableRules = {
          {"ttl_disabled", "critical"}, {"table_not_active", "warning"}};
      for (const auto& p : kTableRules) {
        if (std::find(rules.begin(), rules.end(), p) == rules.end()) rules.push_back(p);
      }
    }
    if (t.has_hygiene) rules.emplace_back("ttl_hygiene", "warning");
    if (t.extra.is_object() && t.extra.contains("deletion") && t.extra["deletion"].is_object() &&
        t.extra["deletion"].contains("deleted_in_window") && !t.extra["deletion"].contains("error")) {
      rules.emplace_back("ttl_stalled", "critical");
    }
  }
  // A rule the table does not know (added later) still shows up while it fires.
  for (const auto& a : t.anomalies) {
    std::pair<std::string, std::string> p{a.rule, a.severity};
    if (std::find(rules.begin(), rules.end(), p) == rules.end()) rules.push_back(std::move(p));
  }
  return rules;
}

std::shared_ptr<prometheus::Collectable> build_metrics(const Report& report,
                                                       const MetricsOptions& options) {
  auto registry = std::make_shared<prometheus::Registry>();
  Families f(*registry);
  if (options.run_metrics) add_run(f, report);
  if (options.target_metrics) {
    for (const auto& t : report.targets) {
      if (!options.only_target.empty() && t.name != options.only_target) continue;
      add_target(f, t, report.run, options);
    }
  }
  std::vector<prometheus::MetricFamily> extra;
  if (!f.quantiles.empty()) {
    prometheus::MetricFamily quantiles;
    quantiles.name = "ttl_auditor_overdue_quantile_seconds";
    quantiles.help = "Quantiles of time past deadline over expired items (mergeable sketch, 1%).";
    quantiles.type = prometheus::MetricType::Summary;
    quantiles.metric = std::move(f.quantiles);
    extra.push_back(std::move(quantiles));
  }
  if (!f.deletion_latency.empty()) {
    prometheus::MetricFamily latency;
    latency.name = "ttl_auditor_deletion_latency_seconds";
    latency.help = "Time from deadline to deletion by quantile, estimated from items tracked "
                   "between runs (resolution: the run spacing).";
    latency.type = prometheus::MetricType::Summary;
    latency.metric = std::move(f.deletion_latency);
    extra.push_back(std::move(latency));
  }
  return std::make_shared<ModelCollectable>(std::move(registry), std::move(extra));
}

std::string serialize_metrics(const prometheus::Collectable& collectable) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, collectable.Collect());
  return out.str();
}

std::string metrics_text(const Report& report, const MetricsOptions& options) {
  return serialize_metrics(*build_metrics(report, options));
}

std::map<std::string, double> parse_last_success(const std::string& text) {
  std::map<std::string, double> out;
  static const std::regex kLine(
      R"(^ttl_auditor_last_success_timestamp_seconds\{([^}]*)\}\s+([-+0-9.eE]+|NaN|[-+]?Inf)\s*$)");
  static const std::regex kTarget(R"((?:^|,)target="([^"\\]*)\")");
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, kLine)) continue;
    std::string labels = m[1].str();
    std::smatch tm;
    if (!std::regex_search(labels, tm, kTarget)) continue;
    char* end = nullptr;
    std::string v = m[2].str();
    double value = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || !(value > 0)) continue;
    out[tm[1].str()] = value;
  }
  return out;
}

void SwappableCollectable::set(std::shared_ptr<prometheus::Collectable> model) {
  std::lock_guard<std::mutex> lock(mu_);
  model_ = std::move(model);
}

std::vector<prometheus::MetricFamily> SwappableCollectable::Collect() const {
  std::shared_ptr<prometheus::Collectable> r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    r = model_;
  }
  if (!r) return {};
  return r->Collect();
}

}  // namespace ttla
