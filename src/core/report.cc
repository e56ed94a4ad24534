#include "core/report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/error.h"
#include "core/time.h"
#include "ttla_version.h"

namespace ttla {
namespace {

using nlohmann::json;

[[noreturn]] void parse_error(const std::string& what) {
  throw Error(ErrorKind::kParse, "report: " + what);
}

// Members a target object defines itself; anything else read back goes to `extra`.
const std::set<std::string>& fixed_target_keys() {
  static const std::set<std::string> kKeys = {"name",      "kind",       "status",        "error",
                                              "scan",      "expired",    "hygiene",       "multipart",
                                              "noncurrent", "table_metrics", "anomalies", "state",
                                              "hygiene_ci95", "hygiene_estimated"};
  return kKeys;
}

int64_t reported_count(const TargetReport& t) {
  return t.estimated ? std::llround(std::max(0.0, t.expired_estimate))
                     : static_cast<int64_t>(t.stats.expired_count());
}

json scan_to_json(const ScanInfo& s) {
  json j = {{"mode", s.mode},
            {"items_scanned", s.items_scanned},
            {"segments_total", s.segments_total},
            {"segments_scanned", s.segments_scanned},
            {"consumed_read_units", s.consumed_read_units},
            {"duration_seconds", s.duration_seconds},
            {"requests", s.requests},
            {"sample_fraction", s.sample_fraction}};
  if (s.full_scan_read_units_estimate) {
    j["full_scan_read_units_estimate"] = *s.full_scan_read_units_estimate;
  }
  if (s.seed) j["seed"] = *s.seed;
  return j;
}

json expired_to_json(const TargetReport& t) {
  const TargetStats& s = t.stats;
  const int64_t count = reported_count(t);
  json ci95 = json::array();
  if (t.estimated) {
    // Counts are whole items, so the interval is rounded outwards.
    ci95.push_back(static_cast<int64_t>(std::floor(std::max(0.0, t.ci95[0]))));
    ci95.push_back(static_cast<int64_t>(std::ceil(std::max(0.0, t.ci95[1]))));
  } else {
    ci95 = {count, count};
  }
  auto q = [&](double p) { return t.overdue_quantile(p); };
  json groups = json::array();
  for (const auto& [group, n] : s.top_groups()) groups.push_back({{"group", group}, {"count", n}});
  json j = {{"count", count},
          {"estimated", t.estimated},
          {"ci95", ci95},
          {"oldest_overdue_seconds", s.oldest_overdue_seconds()},
          {"newest_overdue_seconds", s.newest_overdue_seconds()},
          {"overdue_seconds_quantiles", {{"p50", q(0.5)}, {"p90", q(0.9)}, {"p99", q(0.99)}}},
          {"histogram", s.histogram().to_json()},
          {"oldest_items", s.oldest_items()},
          {"sample_items", s.sample_items()},
          {"top_groups", groups}};
  if (t.expired_bytes_measured) j["bytes"] = s.expired_bytes();
  return j;
}

// Counts are whole items: an estimate is shown rounded, its interval rounded outwards.
int64_t rounded_count(double v) { return std::llround(std::max(0.0, v)); }
json rounded_interval(double lo, double hi) {
  return json::array({static_cast<int64_t>(std::floor(std::max(0.0, lo))),
                      static_cast<int64_t>(std::ceil(std::max(0.0, hi)))});
}

const ItemClass kHygieneClasses[] = {ItemClass::kNotYetExpired, ItemClass::kMissingTtl,
                                     ItemClass::kNonNumericTtl, ItemClass::kMillisecondsTtl,
                                     ItemClass::kBeyondFiveYears};

json sample_state_to_json(const SampleState& st) {
  json segments = json::array();
  for (const SampledSegment& g : st.segments) {
    segments.push_back({{"segment", g.segment}, {"classes", g.classes}, {"scanned", g.scanned},
                        {"units", g.units}});
  }
  return {{"table", st.table},
          {"fraction", st.fraction},
          {"seed", st.seed},
          {"total_segments", st.total_segments},
          {"planned_segments", st.planned_segments},
          {"shard_index", st.shard_index},
          {"shard_count", st.shard_count},
          {"budget_stopped", st.budget_stopped},
          {"segments", segments}};
}

json optional_int(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }

json target_to_json(const TargetReport& t, bool with_state) {
  json j = {{"name", t.name},
            {"kind", t.kind},
            {"status", to_string(t.status)},
            {"error", t.error ? json(*t.error) : json(nullptr)},
            {"scan", scan_to_json(t.scan)}};
  // A kind that audits no deadlines (sqs) has no `expired` at all; a target that measured
  // nothing (failed, or stopped before any item) has `expired: null`, never zeros.
  if (t.has_expired) j["expired"] = t.has_findings() ? expired_to_json(t) : json(nullptr);
  if (t.has_hygiene && t.has_findings()) {
    json hygiene = json::object();
    json hygiene_ci95 = json::object();
    for (ItemClass c : kHygieneClasses) {
      const std::string name(class_name(c));
      if (t.estimated) {
        const ClassEstimate& e = t.class_estimates[static_cast<size_t>(c)];
        hygiene[name] = rounded_count(e.estimate);
        hygiene_ci95[name] = rounded_interval(e.low, e.high);
      } else {
        hygiene[name] = t.stats.class_count(c);
      }
    }
    j["hygiene"] = hygiene;
    j["hygiene_estimated"] = t.estimated;
    if (t.estimated) j["hygiene_ci95"] = hygiene_ci95;
  }
  if (t.multipart) {
    j["multipart"] = {{"stale_count", t.multipart->stale_count},
                      {"oldest_age_seconds", t.multipart->oldest_age_seconds}};
  }
  if (t.noncurrent) {
    j["noncurrent"] = {{"expired_count", t.noncurrent->expired_count},
                       {"expired_bytes", t.noncurrent->expired_bytes}};
  }
  if (t.table_metrics) {
    const TableMetrics& m = *t.table_metrics;
    j["table_metrics"] = {{"item_count", optional_int(m.item_count)},
                          {"table_size_bytes", optional_int(m.table_size_bytes)},
                          {"table_status", m.table_status},
                          {"ttl_status", m.ttl_status},
                          {"ttl_attribute", m.ttl_attribute}};
  }
  json anomalies = json::array();
  for (const Anomaly& a : t.anomalies) {
    anomalies.push_back({{"rule", a.rule},
                         {"severity", a.severity},
                         {"message", a.message},
                         {"value", a.value},
                         {"threshold", a.threshold}});
  }
  j["anomalies"] = anomalies;
  // Kind-specific sections never replace a CONTRACT field.
  if (t.extra.is_object()) {
    for (const auto& [key, value] : t.extra.items()) {
      if (!j.contains(key) && key != "state") j[key] = value;
    }
  }
  if (with_state) {
    j["state"] = {{"stats", t.stats.to_state()},
                  {"expired_estimate", t.expired_estimate},
                  {"ci95", {t.ci95[0], t.ci95[1]}},
                  {"expired_bytes_measured", t.expired_bytes_measured},
                  {"findings_measured", t.findings_measured}};
    if (t.estimated) {
      json classes = json::array();
      for (const ClassEstimate& e : t.class_estimates) classes.push_back({e.estimate, e.low, e.high});
      j["state"]["class_estimates"] = classes;
    }
    if (t.sample) j["state"]["sample"] = sample_state_to_json(*t.sample);
  }
  return j;
}

template <typename T>
T member(const json& j, const char* name, const std::string& where) {
  if (!j.is_object() || !j.contains(name)) parse_error(where + ": missing \"" + name + "\"");
  try {
    return j.at(name).get<T>();
  } catch (const json::exception& e) {
    parse_error(where + "." + name + ": " + e.what());
  }
}

template <typename T>
T member_or(const json& j, const char* name, T fallback, const std::string& where) {
  if (!j.is_object() || !j.contains(name) || j.at(name).is_null()) return fallback;
  return member<T>(j, name, where);
}

double time_member(const json& j, const char* name, const std::string& where) {
  auto text = member<std::string>(j, name, where);
  auto t = parse_time_exact(text);
  if (!t) parse_error(where + "." + name + ": not an RFC 3339 time: \"" + text + "\"");
  return *t;
}

Status status_member(const json& j, const std::string& where) {
  auto text = member<std::string>(j, "status", where);
  if (text != "ok" && text != "partial" && text != "failed") {
    parse_error(where + ".status: unknown status \"" + text + "\"");
  }
  return status_from_string(text);
}

ScanInfo scan_from_json(const json& j, const std::string& where) {
  const std::string sw = where + ".scan";
  const json& scan = j.contains("scan") ? j.at("scan") : json();
  ScanInfo out;
  out.mode = member<std::string>(scan, "mode", sw);
  out.items_scanned = member<uint64_t>(scan, "items_scanned", sw);
  out.segments_total = member<uint64_t>(scan, "segments_total", sw);
  out.segments_scanned = member<uint64_t>(scan, "segments_scanned", sw);
  out.consumed_read_units = member<double>(scan, "consumed_read_units", sw);
  out.duration_seconds = member<double>(scan, "duration_seconds", sw);
  out.requests = member_or<uint64_t>(scan, "requests", 0, sw);
  out.sample_fraction = member_or<double>(scan, "sample_fraction", 1.0, sw);
  if (scan.contains("full_scan_read_units_estimate") && !scan.at("full_scan_read_units_estimate").is_null()) {
    out.full_scan_read_units_estimate = member<double>(scan, "full_scan_read_units_estimate", sw);
  }
  if (scan.contains("seed") && !scan.at("seed").is_null()) out.seed = member<uint64_t>(scan, "seed", sw);
  return out;
}

SampleState sample_from_json(const json& sj, const std::string& w) {
  SampleState st;
  st.table = member<std::string>(sj, "table", w);
  st.fraction = member<double>(sj, "fraction", w);
  st.seed = member<uint64_t>(sj, "seed", w);
  st.total_segments = member<uint64_t>(sj, "total_segments", w);
  st.planned_segments = member<uint64_t>(sj, "planned_segments", w);
  st.shard_index = member<int>(sj, "shard_index", w);
  st.shard_count = member<int>(sj, "shard_count", w);
  st.budget_stopped = member_or<bool>(sj, "budget_stopped", false, w);
  const json& segs = member<json>(sj, "segments", w);
  if (!segs.is_array()) parse_error(w + ".segments: not an array");
  for (const json& g : segs) {
    SampledSegment seg;
    seg.segment = member<uint64_t>(g, "segment", w + ".segments");
    auto classes = member<std::vector<uint64_t>>(g, "classes", w + ".segments");
    if (classes.size() != seg.classes.size()) parse_error(w + ".segments: wrong class count");
    std::copy(classes.begin(), classes.end(), seg.classes.begin());
    seg.scanned = member<uint64_t>(g, "scanned", w + ".segments");
    seg.units = member<double>(g, "units", w + ".segments");
    st.segments.push_back(seg);
  }
  return st;
}

// The mergeable state a shard report carries: stats, estimates, class estimates, sample plan.
void state_from_json(const json& j, const std::string& where, TargetReport& t) {
  if (!j.contains("state")) {
    parse_error(where + " (" + t.name + "): no \"state\"; only shard reports (written with state) can be merged");
  }
  const json& state = j.at("state");
  const std::string w = where + ".state";
  t.stats = TargetStats::from_state(member<json>(state, "stats", w));
  t.expired_estimate = member_or<double>(state, "expired_estimate", 0.0, w);
  auto ci = member_or<std::vector<double>>(state, "ci95", {0, 0}, w);
  if (ci.size() != 2) parse_error(w + ".ci95: expected two numbers");
  t.ci95 = {ci[0], ci[1]};
  t.has_expired = j.contains("expired");
  // `expired` is null when the target measured nothing (failed, or stopped before any item).
  const json expired = t.has_expired ? j.at("expired") : json();
  if (!expired.is_null()) t.estimated = member<bool>(expired, "estimated", where + ".expired");
  t.findings_measured =
      member_or<bool>(state, "findings_measured", t.has_expired ? !expired.is_null() : t.status != Status::kFailed, w);
  t.expired_bytes_measured = member_or<bool>(state, "expired_bytes_measured", true, w);
  if (state.contains("class_estimates")) {
    auto rows = member<std::vector<std::vector<double>>>(state, "class_estimates", w);
    if (rows.size() != t.class_estimates.size()) parse_error(w + ".class_estimates: wrong size");
    for (size_t c = 0; c < rows.size(); ++c) {
      if (rows[c].size() != 3) parse_error(w + ".class_estimates: expected [estimate, low, high]");
      t.class_estimates[c] = {rows[c][0], rows[c][1], rows[c][2]};
    }
  }
  if (state.contains("sample")) t.sample = sample_from_json(state.at("sample"), w + ".sample");
}

TableMetrics table_metrics_from_json(const json& m, const std::string& mw) {
  TableMetrics tm;
  if (m.contains("item_count") && !m.at("item_count").is_null()) tm.item_count = member<int64_t>(m, "item_count", mw);
  if (m.contains("table_size_bytes") && !m.at("table_size_bytes").is_null()) {
    tm.table_size_bytes = member<int64_t>(m, "table_size_bytes", mw);
  }
  tm.table_status = member_or<std::string>(m, "table_status", "", mw);
  tm.ttl_status = member_or<std::string>(m, "ttl_status", "", mw);
  tm.ttl_attribute = member_or<std::string>(m, "ttl_attribute", "", mw);
  return tm;
}

std::vector<Anomaly> anomalies_from_json(const json& arr, const std::string& where) {
  if (!arr.is_array()) parse_error(where + ".anomalies: not an array");
  std::vector<Anomaly> out;
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string aw = where + ".anomalies[" + std::to_string(i) + "]";
    out.push_back(Anomaly{member<std::string>(arr[i], "rule", aw), member<std::string>(arr[i], "severity", aw),
                          member_or<std::string>(arr[i], "message", "", aw),
                          member_or<double>(arr[i], "value", 0.0, aw),
                          member_or<double>(arr[i], "threshold", 0.0, aw)});
  }
  return out;
}

// The per-kind sections a report may carry (multipart, noncurrent, table metrics, anomalies).
void sections_from_json(const json& j, const std::string& where, TargetReport& t) {
  t.has_hygiene = j.contains("hygiene");
  if (j.contains("multipart")) {
    const std::string mw = where + ".multipart";
    t.multipart = MultipartInfo{member<uint64_t>(j.at("multipart"), "stale_count", mw),
                                member<double>(j.at("multipart"), "oldest_age_seconds", mw)};
  }
  if (j.contains("noncurrent")) {
    const std::string nw = where + ".noncurrent";
    t.noncurrent = NoncurrentInfo{member<uint64_t>(j.at("noncurrent"), "expired_count", nw),
                                  member<uint64_t>(j.at("noncurrent"), "expired_bytes", nw)};
  }
  if (j.contains("table_metrics")) t.table_metrics = table_metrics_from_json(j.at("table_metrics"), where + ".table_metrics");
  if (j.contains("anomalies")) t.anomalies = anomalies_from_json(j.at("anomalies"), where);
}

TargetReport target_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) parse_error(where + ": not an object");
  TargetReport t;
  t.name = member<std::string>(j, "name", where);
  t.kind = member<std::string>(j, "kind", where);
  t.status = status_member(j, where);
  if (j.contains("error") && !j.at("error").is_null()) t.error = member<std::string>(j, "error", where);
  t.scan = scan_from_json(j, where);
  state_from_json(j, where, t);
  sections_from_json(j, where, t);
  for (const auto& [key, value] : j.items()) {
    if (!fixed_target_keys().count(key)) t.extra[key] = value;
  }
  return t;
}

// Independent estimates: centres add, 95% half-widths add in quadrature.
void merge_estimates(TargetReport& into, const TargetReport& part) {
  auto as_estimate = [](const TargetReport& t, double& centre, double& half) {
    if (t.estimated) {
      centre = t.expired_estimate;
      half = std::max(0.0, (t.ci95[1] - t.ci95[0]) / 2);
    } else {
      centre = static_cast<double>(t.stats.expired_count());
      half = 0;
    }
  };
  double c1, h1, c2, h2;
  // `into` already holds the merged stats, so its exact count includes part's; reconstruct.
  as_estimate(part, c2, h2);
  if (into.estimated) {
    c1 = into.expired_estimate;
    h1 = std::max(0.0, (into.ci95[1] - into.ci95[0]) / 2);
  } else {
    c1 = static_cast<double>(into.stats.expired_count() - part.stats.expired_count());
    h1 = 0;
  }
  double centre = c1 + c2;
  double half = std::sqrt(h1 * h1 + h2 * h2);
  into.estimated = true;
  into.expired_estimate = centre;
  into.ci95 = {std::max(0.0, centre - half), centre + half};
}

void merge_target(TargetReport& into, const TargetReport& part) {
  if (into.kind != part.kind) {
    throw Error(ErrorKind::kConfig, "merge: target \"" + into.name + "\" is kind " + into.kind +
                                        " in one report and " + part.kind + " in another");
  }
  into.status = worst(into.status, part.status);
  if (part.error) {
    if (!into.error) into.error = part.error;
    else if (into.error->find(*part.error) == std::string::npos) into.error = *into.error + "; " + *part.error;
  }
  ScanInfo& s = into.scan;
  const ScanInfo& p = part.scan;
  // Weighted by items scanned so a shard that read little does not dominate the fraction.
  double w1 = static_cast<double>(s.items_scanned), w2 = static_cast<double>(p.items_scanned);
  s.sample_fraction = (w1 + w2 > 0) ? (s.sample_fraction * w1 + p.sample_fraction * w2) / (w1 + w2)
                                    : std::min(s.sample_fraction, p.sample_fraction);
  if (p.mode == "sample") s.mode = "sample";
  s.items_scanned += p.items_scanned;
  // Every shard reports the plan's TotalSegments: the merged total is the plan's, not a sum.
  s.segments_total = std::max(s.segments_total, p.segments_total);
  s.segments_scanned += p.segments_scanned;
  s.consumed_read_units += p.consumed_read_units;
  s.requests += p.requests;
  s.duration_seconds = std::max(s.duration_seconds, p.duration_seconds);  // shards run in parallel
  if (p.full_scan_read_units_estimate) {
    s.full_scan_read_units_estimate = s.full_scan_read_units_estimate.value_or(0) + *p.full_scan_read_units_estimate;
  }

  const bool any_estimated = into.estimated || part.estimated;
  into.stats.merge(part.stats);
  into.expired_bytes_measured = into.expired_bytes_measured && part.expired_bytes_measured;
  into.findings_measured = into.findings_measured || part.findings_measured;
  if (!s.seed) s.seed = p.seed;
  if (into.sample || part.sample) {
    // Sampled: the per-segment totals are united here and the estimates recomputed over the
    // union afterwards (merge_reports' `reestimate`), never added shard by shard.
    if (!into.sample) into.sample = part.sample;
    else if (part.sample) {
      into.sample->segments.insert(into.sample->segments.end(), part.sample->segments.begin(),
                                   part.sample->segments.end());
      into.sample->budget_stopped = into.sample->budget_stopped || part.sample->budget_stopped;
    }
    into.estimated = true;
  } else if (any_estimated) {
    merge_estimates(into, part);
  }

  into.has_hygiene = into.has_hygiene || part.has_hygiene;
  if (!into.table_metrics) into.table_metrics = part.table_metrics;
  if (part.multipart) {
    MultipartInfo m = into.multipart.value_or(MultipartInfo{});
    m.stale_count += part.multipart->stale_count;
    m.oldest_age_seconds = std::max(m.oldest_age_seconds, part.multipart->oldest_age_seconds);
    into.multipart = m;
  }
  if (part.noncurrent) {
    NoncurrentInfo n = into.noncurrent.value_or(NoncurrentInfo{});
    n.expired_count += part.noncurrent->expired_count;
    n.expired_bytes += part.noncurrent->expired_bytes;
    into.noncurrent = n;
  }
  for (const Anomaly& a : part.anomalies) {
    bool seen = std::any_of(into.anomalies.begin(), into.anomalies.end(), [&](const Anomaly& b) {
      return a.rule == b.rule && a.severity == b.severity && a.message == b.message;
    });
    if (!seen) into.anomalies.push_back(a);
  }
  if (part.extra.is_object()) {
    if (!into.extra.is_object()) into.extra = json::object();
    for (const auto& [key, value] : part.extra.items()) {
      if (!into.extra.contains(key)) into.extra[key] = value;
    }
  }
}

}  // namespace

std::string_view to_string(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kPartial: return "partial";
    case Status::kFailed: return "failed";
  }
  return "failed";
}

Status status_from_string(std::string_view s) {
  if (s == "ok") return Status::kOk;
  if (s == "partial") return Status::kPartial;
  if (s == "failed") return Status::kFailed;
  throw Error(ErrorKind::kParse, "unknown status \"" + std::string(s) + "\"");
}

Status worst(Status a, Status b) { return static_cast<int>(a) >= static_cast<int>(b) ? a : b; }

double TargetReport::overdue_quantile(double p) const {
  // The sketch's estimate may land a fraction of a percent outside the exact extremes; clamping
  // keeps p99 <= oldest and p50 >= newest, which readers rightly expect.
  if (exact_quantiles) return (*exact_quantiles)[p < 0.75 ? 0 : (p < 0.95 ? 1 : 2)];
  if (stats.sketch().count() == 0) return 0.0;
  return std::clamp(stats.sketch().quantile(p), stats.newest_overdue_seconds(),
                    stats.oldest_overdue_seconds());
}

nlohmann::json report_to_json(const Report& report, bool with_state) {
  const RunInfo& r = report.run;
  json run = {{"id", r.id},
              {"started_at", format_rfc3339_ms(r.started_at)},
              {"finished_at", format_rfc3339_ms(r.finished_at)},
              {"as_of", format_rfc3339(r.as_of)},
              {"duration_seconds", std::max(0.0, r.finished_at - r.started_at)},
              {"status", to_string(r.status)}};
  if (r.shard) run["shard"] = *r.shard;
  json targets = json::array();
  for (const TargetReport& t : report.targets) targets.push_back(target_to_json(t, with_state));
  return {{"schema_version", 1},
          {"tool", {{"name", "ttl-auditor"}, {"version", TTLA_VERSION}}},
          {"run", run},
          {"targets", targets}};
}

Report report_from_json(const nlohmann::json& j) {
  if (!j.is_object()) parse_error("not a JSON object");
  if (member<int>(j, "schema_version", "report") != 1) parse_error("unsupported schema_version");
  Report report;
  const json& run = member<json>(j, "run", "report");
  report.run.id = member<std::string>(run, "id", "run");
  report.run.started_at = time_member(run, "started_at", "run");
  report.run.finished_at = time_member(run, "finished_at", "run");
  auto as_of_text = member<std::string>(run, "as_of", "run");
  auto as_of = parse_time(as_of_text);
  if (!as_of) parse_error("run.as_of: not an RFC 3339 time: \"" + as_of_text + "\"");
  report.run.as_of = *as_of;
  report.run.status = status_member(run, "run");
  if (run.contains("shard") && !run.at("shard").is_null()) report.run.shard = member<std::string>(run, "shard", "run");
  const json& targets = member<json>(j, "targets", "report");
  if (!targets.is_array()) parse_error("targets: not an array");
  for (size_t i = 0; i < targets.size(); ++i) {
    report.targets.push_back(target_from_json(targets[i], "targets[" + std::to_string(i) + "]"));
  }
  return report;
}

namespace {

std::optional<std::pair<int, int>> parse_shard_label(const std::string& label) {
  const size_t slash = label.find('/');
  if (slash == std::string::npos) return std::nullopt;
  try {
    size_t used = 0;
    const int i = std::stoi(label.substr(0, slash), &used);
    if (used != slash) return std::nullopt;
    const std::string rest = label.substr(slash + 1);
    const int n = std::stoi(rest, &used);
    if (used != rest.size() || n < 1 || i < 0 || i >= n) return std::nullopt;
    return std::make_pair(i, n);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

[[noreturn]] void merge_error(const std::string& name, const std::string& what) {
  throw Error(ErrorKind::kConfig, name + ": " + what);
}

const TargetReport* find_target(const Report& r, const std::string& name) {
  for (const TargetReport& t : r.targets) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// Rejects parts that cannot be merged into one honest report; returns the missing shard indexes.
std::vector<int> validate_parts(const std::vector<Report>& parts,
                                const std::function<std::string(size_t)>& name) {
  std::optional<int> shard_count;
  std::map<int, size_t> seen;  // shard index -> part
  std::map<std::string, size_t> run_ids;
  for (size_t i = 0; i < parts.size(); ++i) {
    const RunInfo& r = parts[i].run;
    if (auto [it, fresh] = run_ids.emplace(r.id, i); !fresh) {
      merge_error(name(i), "the same run (id " + r.id + ") as " + name(it->second) +
                               ": a part given twice would count its items twice");
    }
    if (r.as_of != parts[0].run.as_of) {
      merge_error(name(i), "audited as of " + format_rfc3339(r.as_of) + " but " + name(0) +
                               " as of " + format_rfc3339(parts[0].run.as_of) +
                               ": shards must share --as-of");
    }
    if (parts[0].run.shard.has_value() != r.shard.has_value()) {
      merge_error(name(i), r.shard ? "a shard report, but " + name(0) + " is not"
                                   : "not a shard report (no run.shard), but " + name(0) + " is");
    }
    if (r.shard) {
      auto shard = parse_shard_label(*r.shard);
      if (!shard) merge_error(name(i), "run.shard \"" + *r.shard + "\" is not i/N");
      if (shard_count && *shard_count != shard->second) {
        merge_error(name(i), "shard " + *r.shard + " of " + std::to_string(shard->second) +
                                 " shards, but other parts have " + std::to_string(*shard_count));
      }
      shard_count = shard->second;
      if (auto [it, fresh] = seen.emplace(shard->first, i); !fresh) {
        merge_error(name(i), "shard " + *r.shard + " given twice (also " + name(it->second) + ")");
      }
    }
    // Sampled targets must come from one plan: same table, fraction, TotalSegments and seed.
    for (const TargetReport& t : parts[i].targets) {
      if (!t.sample) continue;
      for (size_t j = 0; j < i; ++j) {
        const TargetReport* o = find_target(parts[j], t.name);
        if (o == nullptr || !o->sample) continue;
        const SampleState& a = *t.sample;
        const SampleState& b = *o->sample;
        std::string why;
        if (a.table != b.table) why = "table " + a.table + " vs " + b.table;
        else if (a.seed != b.seed) why = "seed " + std::to_string(a.seed) + " vs " + std::to_string(b.seed);
        else if (a.total_segments != b.total_segments || a.planned_segments != b.planned_segments ||
                 a.fraction != b.fraction) {
          why = "plan " + std::to_string(a.planned_segments) + " of " + std::to_string(a.total_segments) +
                " segments vs " + std::to_string(b.planned_segments) + " of " + std::to_string(b.total_segments);
        }
        if (!why.empty()) {
          merge_error(name(i), "target " + t.name + " was sampled differently from " + name(j) +
                                   " (" + why + "): run every shard with the same --seed and config");
        }
        break;
      }
    }
  }
  std::vector<int> missing;
  if (shard_count) {
    for (int k = 0; k < *shard_count; ++k) {
      if (!seen.count(k)) missing.push_back(k);
    }
  }
  return missing;
}

}  // namespace

Report merge_reports(const std::vector<Report>& parts, const std::vector<std::string>& names,
                     const std::function<void(TargetReport&)>& reestimate) {
  if (parts.empty()) throw Error(ErrorKind::kConfig, "merge: no reports to merge");
  auto name = [&](size_t i) { return i < names.size() ? names[i] : "part " + std::to_string(i + 1); };
  const std::vector<int> missing = validate_parts(parts, name);
  Report out;
  out.run = parts.front().run;
  const std::optional<std::string> first_shard = out.run.shard;
  out.run.shard.reset();
  for (size_t i = 0; i < parts.size(); ++i) {
    const RunInfo& r = parts[i].run;
    if (i > 0) {
      out.run.started_at = std::min(out.run.started_at, r.started_at);
      out.run.finished_at = std::max(out.run.finished_at, r.finished_at);
    }
    out.run.status = worst(out.run.status, r.status);
    for (const TargetReport& t : parts[i].targets) {
      auto it = std::find_if(out.targets.begin(), out.targets.end(),
                             [&](const TargetReport& o) { return o.name == t.name; });
      if (it == out.targets.end()) {
        out.targets.push_back(t);
      } else {
        merge_target(*it, t);
      }
    }
  }
  std::string missing_text;
  if (!missing.empty()) {
    for (int k : missing) missing_text += (missing_text.empty() ? "" : ", ") + std::to_string(k);
    const int n = parse_shard_label(*first_shard)->second;
    missing_text = "shard" + std::string(missing.size() > 1 ? "s " : " ") + missing_text + " of " +
                   std::to_string(n) + " missing: their part of each target is not in this report";
  }
  for (TargetReport& t : out.targets) {
    if (t.sample) {
      // The union is one sample of the whole plan.
      t.sample->shard_index = 0;
      t.sample->shard_count = 1;
      if (!reestimate) throw Error(ErrorKind::kConfig, "merge: sampled parts need an estimator");
      reestimate(t);
    }
    if (!missing.empty()) {
      t.status = worst(t.status, Status::kPartial);
      t.error = t.error ? *t.error + "; " + missing_text : missing_text;
    }
    out.run.status = worst(out.run.status, t.status);
  }
  return out;
}

}  // namespace ttla
