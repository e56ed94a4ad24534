#include "sinks/metrics.h"

#include <algorithm>
#include <cstdlib>
#include <initializer_list>
#include <regex>
#include <set>
#include <sstream>

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include "checks/rule_catalogue.h"
#include "core/classify.h"
#include "sources/kinds.h"
#include "ttla_version.h"

namespace ttla {
namespace {

using prometheus::Labels;
using prometheus::MetricType;

// ---------------------------------------------------------------------------------------------
// The model as a table: each family named once with its help, type, labels beyond
// {target, kind} and the function that reads its values from a report. Families without
// samples are left out of the exposition, so "only when ..." series are simply not emitted.
// The table order is the registration order, which fixes the exposition order.
// ---------------------------------------------------------------------------------------------

// What a row's values are read from: the run, and the target for per-target rows.
struct Subject {
  const Report& report;
  const TargetReport* target;  // nullptr for run rows
  const MetricsOptions& options;
  const TargetReport& t() const { return *target; }
};

class Samples;
enum class Scope { kRun, kTarget };

struct MetricRow {
  const char* name;
  const char* help;
  MetricType type;                  // Gauge, Histogram or Summary
  Scope scope;
  std::vector<const char*> labels;  // beyond {target, kind}, in the order values are given
  void (*values)(const Subject&, Samples&);
};

// Where one row's samples go: a registered gauge or histogram family, or the metrics of a
// hand-built summary family (promtool accepts a `quantile` label on summaries only).
class Samples {
 public:
  Samples(const MetricRow& row, Labels base, prometheus::Family<prometheus::Gauge>* gauges,
          prometheus::Family<prometheus::Histogram>* histograms,
          std::vector<prometheus::ClientMetric>* summaries)
      : row_(row), base_(std::move(base)), gauges_(gauges), histograms_(histograms),
        summaries_(summaries) {}

  // One gauge sample; `label_values` follow the row's labels.
  void set(double value) { set({}, value); }
  void set(std::initializer_list<std::string> label_values, double value) {
    gauges_->Add(labels(label_values)).Set(value);
  }
  // The overdue histogram from the report's cumulative buckets.
  void histogram(const OverdueHistogram& h) {
    // Cumulative report histogram -> per-bucket increments, as prometheus-cpp wants them.
    const auto& bounds = OverdueHistogram::bounds();
    const auto cumulative = h.cumulative();
    std::vector<double> increments(cumulative.size(), 0.0);
    for (size_t i = 0; i < cumulative.size(); ++i) {
      const uint64_t prev = i == 0 ? 0 : cumulative[i - 1];
      increments[i] = static_cast<double>(cumulative[i] >= prev ? cumulative[i] - prev : 0);
    }
    auto& m = histograms_->Add(labels({}), prometheus::Histogram::BucketBoundaries(bounds));
    if (increments.size() == bounds.size() + 1) m.ObserveMultiple(increments, h.sum());
  }
  // One summary metric: (quantile, value) pairs with the summary's own count and sum.
  void summary(const std::vector<std::pair<double, double>>& quantiles, uint64_t count, double sum) {
    prometheus::ClientMetric m;
    for (const auto& [name, value] : base_) m.label.push_back({name, value});
    m.summary.sample_count = count;
    m.summary.sample_sum = sum;
    for (const auto& [q, v] : quantiles) m.summary.quantile.push_back({q, v});
    summaries_->push_back(std::move(m));
  }

 private:
  Labels labels(std::initializer_list<std::string> values) const {
    Labels l = base_;
    auto name = row_.labels.begin();
    for (const std::string& v : values) {
      if (name == row_.labels.end()) break;
      l[*name++] = v;
    }
    return l;
  }
  const MetricRow& row_;
  Labels base_;
  prometheus::Family<prometheus::Gauge>* gauges_;
  prometheus::Family<prometheus::Histogram>* histograms_;
  std::vector<prometheus::ClientMetric>* summaries_;
};

// A failed target, or one stopped before it read anything, has no findings: exporting zeros
// would resolve live backlog alerts.
bool findings(const Subject& s) { return s.t().has_findings(); }
// Findings with deadlines: no deadlines audited means no expired/overdue series, not zeros.
bool expiry(const Subject& s) { return s.t().has_findings() && s.t().has_expired; }

// A number at section[key] of a report's kind-specific sections, if present.
std::optional<double> number_at(const nlohmann::json& section, const char* key) {
  if (!section.is_object()) return std::nullopt;
  auto it = section.find(key);
  if (it == section.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

// The kind-specific section `name` of a target with findings of kind `kind`, or null.
const nlohmann::json* section(const Subject& s, const char* kind, const char* name) {
  const TargetReport& t = s.t();
  if (!findings(s) || !t.extra.is_object() || t.kind != kind || !t.extra.contains(name)) return nullptr;
  return &t.extra[name];
}

// The deletion section (measured deletion rate and latency) of a target with expiry findings.
const nlohmann::json* deletion(const Subject& s) {
  const TargetReport& t = s.t();
  if (!expiry(s) || !t.extra.is_object()) return nullptr;
  auto del = t.extra.find("deletion");
  return del != t.extra.end() && del->is_object() ? &*del : nullptr;
}

// The drain estimate from the measured deletion rate when there is one, else from the
// backlog's trend over past runs.
std::optional<double> drain_estimate(const Subject& s) {
  const nlohmann::json* del = deletion(s);
  if (del != nullptr && !del->contains("error")) {
    if (auto eta = number_at(*del, "drain_eta_seconds")) return eta;
  }
  if (!expiry(s) || !s.t().extra.is_object()) return std::nullopt;
  auto trend = s.t().extra.find("backlog_trend");
  if (trend == s.t().extra.end() || !trend->is_object()) return std::nullopt;
  auto dir = trend->find("direction");
  if (dir == trend->end() || *dir != "shrinking") return std::nullopt;
  return number_at(*trend, "drain_estimate_seconds");
}

// The kind rules a target's kind declares (its row of sources/kinds.cc); a rule tied to a
// section only for reports that carry it.
bool kind_declares(const TargetReport& t, std::string_view rule, std::string_view severity) {
  const Kind* kind = find_kind(t.kind);
  if (kind == nullptr) return false;
  for (const KindRule& r : kind->rules) {
    if (r.rule != rule || r.severity != severity) continue;
    if (r.section.empty() || (t.extra.is_object() && t.extra.contains(r.section))) return true;
  }
  return false;
}

const std::vector<MetricRow>& metric_table() {
  using S = Samples;
  using Sub = Subject;
  static const std::vector<MetricRow> kTable = {
      {"ttl_auditor_expired_items",
       "Expired items still present (an estimate when the target is sampled).", MetricType::Gauge,
       Scope::kTarget, {},
       [](const Sub& s, S& out) { if (expiry(s)) out.set(s.t().expired_count_reported()); }},
      {"ttl_auditor_expired_items_ci95", "95% confidence bounds of the sampled expired-items estimate.",
       MetricType::Gauge, Scope::kTarget, {"bound"},
       [](const Sub& s, S& out) {
         if (!expiry(s) || !s.t().estimated) return;
         out.set({"lower"}, s.t().ci95[0]);
         out.set({"upper"}, s.t().ci95[1]);
       }},
      {"ttl_auditor_expired_bytes", "Bytes held by expired items still present (as scanned).",
       MetricType::Gauge, Scope::kTarget, {},
       [](const Sub& s, S& out) {
         if (expiry(s) && s.t().expired_bytes_measured) out.set(static_cast<double>(s.t().stats.expired_bytes()));
       }},
      {"ttl_auditor_oldest_overdue_seconds", "How long the most overdue expired item is past its deadline.",
       MetricType::Gauge, Scope::kTarget, {},
       [](const Sub& s, S& out) { if (expiry(s)) out.set(s.t().stats.oldest_overdue_seconds()); }},
      {"ttl_auditor_newest_overdue_seconds", "How long the least overdue expired item is past its deadline.",
       MetricType::Gauge, Scope::kTarget, {},
       [](const Sub& s, S& out) { if (expiry(s)) out.set(s.t().stats.newest_overdue_seconds()); }},
      {"ttl_auditor_overdue_seconds", "Distribution of time past deadline over expired items.",
       MetricType::Histogram, Scope::kTarget, {},
       [](const Sub& s, S& out) { if (expiry(s)) out.histogram(s.t().stats.histogram()); }},
      // Estimates when sampled, like ttl_auditor_expired_items.
      {"ttl_auditor_not_yet_expired_items", "Scanned items whose deadline is still in the future.",
       MetricType::Gauge, Scope::kTarget, {},
       [](const Sub& s, S& out) {
         if (expiry(s)) out.set(s.t().class_count_reported(ItemClass::kNotYetExpired));
       }},
      {"ttl_auditor_ttl_hygiene_items", "Scanned items DynamoDB TTL will never delete, by problem.",
       MetricType::Gauge, Scope::kTarget, {"problem"},
       [](const Sub& s, S& out) {
         if (!expiry(s) || !s.t().has_hygiene) return;
         for (ItemClass c : {ItemClass::kMissingTtl, ItemClass::kNonNumericTtl,
                             ItemClass::kMillisecondsTtl, ItemClass::kBeyondFiveYears}) {
           out.set({std::string(hygiene_problem_label(c))}, s.t().class_count_reported(c));
         }
       }},
      // Every evaluated (rule, severity) pair (checks/rule_catalogue.h), 1 for those firing.
      {"ttl_auditor_anomaly", "1 while an anomaly rule fires for the target, 0 when evaluated and quiet.",
       MetricType::Gauge, Scope::kTarget, {"rule", "severity"},
       [](const Sub& s, S& out) {
         std::set<std::pair<std::string, std::string>> firing;
         for (const auto& a : s.t().anomalies) firing.emplace(a.rule, a.severity);
         for (const auto& [rule, severity] : evaluated_rules(s.t(), kind_declares)) {
           out.set({rule, severity}, firing.count({rule, severity}) ? 1 : 0);
         }
       }},
      {"ttl_auditor_target_success", "1 when the target's last audit completed, else 0.",
       MetricType::Gauge, Scope::kTarget, {},
       [](const Sub& s, S& out) { out.set(target_succeeded(s.t()) ? 1 : 0); }},
      // A failed run never moves or drops the timestamp: the previous one is carried.
      {"ttl_auditor_last_success_timestamp_seconds", "Unix time the target's audit last completed.",
       MetricType::Gauge, Scope::kTarget, {},
       [](const Sub& s, S& out) {
         if (s.options.omit_last_success) return;
         if (target_succeeded(s.t())) {
           out.set(s.report.run.finished_at);
         } else if (auto it = s.options.previous_success.find(s.t().name);
                    it != s.options.previous_success.end()) {
           out.set(it->second);
         }
       }},
      // What the audit cost is known even when it failed half way.
      {"ttl_auditor_items_scanned", "Items read from the target by the last audit.", MetricType::Gauge,
       Scope::kTarget, {},
       [](const Sub& s, S& out) { out.set(static_cast<double>(s.t().scan.items_scanned)); }},
      {"ttl_auditor_consumed_read_units", "Read capacity units consumed by the last audit.",
       MetricType::Gauge, Scope::kTarget, {},
       [](const Sub& s, S& out) { out.set(s.t().scan.consumed_read_units); }},
      {"ttl_auditor_requests", "API requests or queries made by the last audit.", MetricType::Gauge,
       Scope::kTarget, {},
       [](const Sub& s, S& out) { out.set(static_cast<double>(s.t().scan.requests)); }},
      {"ttl_auditor_scan_duration_seconds", "Wall time the last audit of the target took.",
       MetricType::Gauge, Scope::kTarget, {},
       [](const Sub& s, S& out) { out.set(s.t().scan.duration_seconds); }},
      {"ttl_auditor_table_items", "DescribeTable ItemCount (refreshed by AWS about every six hours).",
       MetricType::Gauge, Scope::kTarget, {},
       [](const Sub& s, S& out) {
         if (expiry(s) && s.t().table_metrics && s.t().table_metrics->item_count) {
           out.set(static_cast<double>(*s.t().table_metrics->item_count));
         }
       }},
      {"ttl_auditor_table_size_bytes",
       "DescribeTable TableSizeBytes (refreshed by AWS about every six hours).", MetricType::Gauge,
       Scope::kTarget, {},
       [](const Sub& s, S& out) {
         if (expiry(s) && s.t().table_metrics && s.t().table_metrics->table_size_bytes) {
           out.set(static_cast<double>(*s.t().table_metrics->table_size_bytes));
         }
       }},
      {"ttl_auditor_ttl_enabled", "1 when the table's TTL status is ENABLED.", MetricType::Gauge,
       Scope::kTarget, {},
       [](const Sub& s, S& out) {
         if (expiry(s) && s.t().table_metrics) out.set(s.t().table_metrics->ttl_status == "ENABLED" ? 1 : 0);
       }},
      {"ttl_auditor_stale_multipart_uploads", "Incomplete multipart uploads older than their abort age.",
       MetricType::Gauge, Scope::kTarget, {},
       [](const Sub& s, S& out) {
         if (expiry(s) && s.t().multipart) out.set(static_cast<double>(s.t().multipart->stale_count));
       }},
      {"ttl_auditor_multipart_oldest_age_seconds", "Age of the oldest stale incomplete multipart upload.",
       MetricType::Gauge, Scope::kTarget, {},
       [](const Sub& s, S& out) {
         if (expiry(s) && s.t().multipart) out.set(s.t().multipart->oldest_age_seconds);
       }},
      {"ttl_auditor_noncurrent_expired_items",
       "Noncurrent object versions past their retention still present.", MetricType::Gauge,
       Scope::kTarget, {},
       [](const Sub& s, S& out) {
         if (expiry(s) && s.t().noncurrent) out.set(static_cast<double>(s.t().noncurrent->expired_count));
       }},
      {"ttl_auditor_noncurrent_expired_bytes", "Bytes of noncurrent object versions past their retention.",
       MetricType::Gauge, Scope::kTarget, {},
       [](const Sub& s, S& out) {
         if (expiry(s) && s.t().noncurrent) out.set(static_cast<double>(s.t().noncurrent->expired_bytes));
       }},
      {"ttl_auditor_backlog_drain_estimate_seconds",
       "Time until the shrinking expired backlog reaches zero at the recent deletion rate.",
       MetricType::Gauge, Scope::kTarget, {},
       [](const Sub& s, S& out) { if (auto d = drain_estimate(s)) out.set(*d); }},
      {"ttl_auditor_ttl_deleted_items_per_hour",
       "Items DynamoDB TTL deleted per hour over the deletion window "
       "(CloudWatch TimeToLiveDeletedItemCount).",
       MetricType::Gauge, Scope::kTarget, {},
       [](const Sub& s, S& out) {
         const nlohmann::json* del = deletion(s);
         if (del == nullptr || del->contains("error")) return;
         if (auto rate = number_at(*del, "rate_per_hour")) out.set(*rate);
       }},
      // Kind-specific sections: only what the report measured is exported.
      {"ttl_auditor_sqs_messages", "Messages in the queue by state (SQS's approximate counts).",
       MetricType::Gauge, Scope::kTarget, {"state"},
       [](const Sub& s, S& out) {
         const nlohmann::json* q = section(s, "sqs", "sqs");
         if (q == nullptr) return;
         const nlohmann::json messages = q->is_object() ? q->value("messages", nlohmann::json()) : nlohmann::json();
         for (const char* state : {"visible", "in_flight", "delayed"}) {
           if (auto v = number_at(messages, state)) out.set({state}, *v);
         }
       }},
      {"ttl_auditor_sqs_oldest_message_age_seconds",
       "Age of the oldest message in the queue (CloudWatch ApproximateAgeOfOldestMessage; absent "
       "when not measured).",
       MetricType::Gauge, Scope::kTarget, {},
       [](const Sub& s, S& out) {
         const nlohmann::json* q = section(s, "sqs", "sqs");
         if (q == nullptr) return;
         if (auto age = number_at(*q, "oldest_message_age_seconds")) out.set(*age);
       }},
      {"ttl_auditor_orphan_files", "Files older than min_age that the database does not track.",
       MetricType::Gauge, Scope::kTarget, {},
       [](const Sub& s, S& out) {
         const nlohmann::json* o = section(s, "filesystem", "orphans");
         if (o == nullptr) return;
         if (auto n = number_at(*o, "count")) out.set(*n);
       }},
      {"ttl_auditor_orphan_bytes", "Bytes held by files the database does not track.",
       MetricType::Gauge, Scope::kTarget, {},
       [](const Sub& s, S& out) {
         const nlohmann::json* o = section(s, "filesystem", "orphans");
         if (o == nullptr) return;
         if (auto b = number_at(*o, "bytes")) out.set(*b);
       }},
      {"ttl_auditor_run_duration_seconds", "Wall time of the last audit run, all targets.",
       MetricType::Gauge, Scope::kRun, {},
       [](const Sub& s, S& out) {
         out.set(std::max(0.0, s.report.run.finished_at - s.report.run.started_at));
       }},
      {"ttl_auditor_last_run_timestamp_seconds",
       "Unix time the last audit run finished, successful or not.", MetricType::Gauge, Scope::kRun, {},
       [](const Sub& s, S& out) { out.set(s.report.run.finished_at); }},
      {"ttl_auditor_build_info", "Always 1; labels carry the build.", MetricType::Gauge, Scope::kRun,
       {"version"}, [](const Sub&, S& out) { out.set({TTLA_VERSION}, 1); }},
      // Quantiles from the mergeable sketch (within 1%): the very values the report shows (exact,
      // or the sketch's clamped to the extremes), with the summary's own count and sum.
      {"ttl_auditor_overdue_quantile_seconds",
       "Quantiles of time past deadline over expired items (mergeable sketch, 1%).",
       MetricType::Summary, Scope::kTarget, {},
       [](const Sub& s, S& out) {
         if (!expiry(s)) return;
         std::vector<std::pair<double, double>> q;
         for (double p : {0.5, 0.9, 0.99}) q.emplace_back(p, s.t().overdue_quantile(p));
         out.summary(q, s.t().stats.expired_count(), s.t().stats.histogram().sum());
       }},
      // The deletions observed as the count and count x estimated mean as the sum. Only estimated
      // quantiles: a latency_error leaves the section without them, and no series is invented.
      {"ttl_auditor_deletion_latency_seconds",
       "Time from deadline to deletion by quantile, estimated from items tracked between runs "
       "(resolution: the run spacing).",
       MetricType::Summary, Scope::kTarget, {},
       [](const Sub& s, S& out) {
         const nlohmann::json* del = deletion(s);
         if (del == nullptr) return;
         auto lq = del->find("latency_seconds_quantiles");
         if (lq == del->end() || !lq->is_object()) return;
         std::vector<std::pair<double, double>> q;
         for (const auto& [key, p] : {std::pair<const char*, double>{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}}) {
           auto v = lq->find(key);
           if (v != lq->end() && v->is_number()) q.emplace_back(p, v->get<double>());
         }
         const uint64_t count = del->value("latency_observations", uint64_t{0});
         out.summary(q, count, static_cast<double>(count) * del->value("latency_mean_seconds", 0.0));
       }},
  };
  return kTable;
}

// The registry's families plus the hand-built summary families, in table order.
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

}  // namespace

bool target_succeeded(const TargetReport& target) { return target.status == Status::kOk; }

std::shared_ptr<prometheus::Collectable> build_metrics(const Report& report,
                                                       const MetricsOptions& options) {
  auto registry = std::make_shared<prometheus::Registry>();
  std::vector<prometheus::MetricFamily> extra;
  for (const MetricRow& row : metric_table()) {
    prometheus::Family<prometheus::Gauge>* gauges = nullptr;
    prometheus::Family<prometheus::Histogram>* histograms = nullptr;
    std::vector<prometheus::ClientMetric> summaries;
    if (row.type == MetricType::Gauge) {
      gauges = &prometheus::BuildGauge().Name(row.name).Help(row.help).Register(*registry);
    } else if (row.type == MetricType::Histogram) {
      histograms = &prometheus::BuildHistogram().Name(row.name).Help(row.help).Register(*registry);
    }
    if (row.scope == Scope::kRun) {
      if (!options.run_metrics) continue;
      Samples out(row, {}, gauges, histograms, &summaries);
      row.values(Subject{report, nullptr, options}, out);
    } else if (options.target_metrics) {
      for (const TargetReport& t : report.targets) {
        if (!options.only_target.empty() && t.name != options.only_target) continue;
        Samples out(row, {{"target", t.name}, {"kind", t.kind}}, gauges, histograms, &summaries);
        row.values(Subject{report, &t, options}, out);
      }
    }
    if (row.type == MetricType::Summary && !summaries.empty()) {
      prometheus::MetricFamily family;
      family.name = row.name;
      family.help = row.help;
      family.type = MetricType::Summary;
      family.metric = std::move(summaries);
      extra.push_back(std::move(family));
    }
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
