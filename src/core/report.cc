#include "core/report.h"

#include <algorithm>
#include <cmath>
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
                                              "noncurrent", "table_metrics", "anomalies", "state"};
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
  // The sketch's estimate may land a fraction of a percent outside the exact extremes; clamping
  // keeps p99 <= oldest and p50 >= newest, which readers rightly expect.
  auto q = [&](double p) {
    if (t.exact_quantiles) return (*t.exact_quantiles)[p < 0.75 ? 0 : (p < 0.95 ? 1 : 2)];
    if (s.sketch().count() == 0) return 0.0;
    return std::clamp(s.sketch().quantile(p), s.newest_overdue_seconds(), s.oldest_overdue_seconds());
  };
  json groups = json::array();
  for (const auto& [group, n] : s.top_groups()) groups.push_back({{"group", group}, {"count", n}});
  return {{"count", count},
          {"estimated", t.estimated},
          {"ci95", ci95},
          {"bytes", s.expired_bytes()},
          {"oldest_overdue_seconds", s.oldest_overdue_seconds()},
          {"newest_overdue_seconds", s.newest_overdue_seconds()},
          {"overdue_seconds_quantiles", {{"p50", q(0.5)}, {"p90", q(0.9)}, {"p99", q(0.99)}}},
          {"histogram", s.histogram().to_json()},
          {"oldest_items", s.oldest_items()},
          {"sample_items", s.sample_items()},
          {"top_groups", groups}};
}

json optional_int(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }

json target_to_json(const TargetReport& t, bool with_state) {
  json j = {{"name", t.name},
            {"kind", t.kind},
            {"status", to_string(t.status)},
            {"error", t.error ? json(*t.error) : json(nullptr)},
            {"scan", scan_to_json(t.scan)},
            {"expired", expired_to_json(t)}};
  if (t.has_hygiene) {
    j["hygiene"] = {{"not_yet_expired", t.stats.class_count(ItemClass::kNotYetExpired)},
                    {"missing_ttl", t.stats.class_count(ItemClass::kMissingTtl)},
                    {"non_numeric_ttl", t.stats.class_count(ItemClass::kNonNumericTtl)},
                    {"milliseconds_ttl", t.stats.class_count(ItemClass::kMillisecondsTtl)},
                    {"beyond_five_years", t.stats.class_count(ItemClass::kBeyondFiveYears)}};
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
                  {"ci95", {t.ci95[0], t.ci95[1]}}};
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

TargetReport target_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) parse_error(where + ": not an object");
  TargetReport t;
  t.name = member<std::string>(j, "name", where);
  t.kind = member<std::string>(j, "kind", where);
  t.status = status_member(j, where);
  if (j.contains("error") && !j.at("error").is_null()) t.error = member<std::string>(j, "error", where);

  const std::string sw = where + ".scan";
  const json& scan = j.contains("scan") ? j.at("scan") : json();
  t.scan.mode = member<std::string>(scan, "mode", sw);
  t.scan.items_scanned = member<uint64_t>(scan, "items_scanned", sw);
  t.scan.segments_total = member<uint64_t>(scan, "segments_total", sw);
  t.scan.segments_scanned = member<uint64_t>(scan, "segments_scanned", sw);
  t.scan.consumed_read_units = member<double>(scan, "consumed_read_units", sw);
  t.scan.duration_seconds = member<double>(scan, "duration_seconds", sw);
  t.scan.requests = member_or<uint64_t>(scan, "requests", 0, sw);
  t.scan.sample_fraction = member_or<double>(scan, "sample_fraction", 1.0, sw);
  if (scan.contains("full_scan_read_units_estimate") && !scan.at("full_scan_read_units_estimate").is_null()) {
    t.scan.full_scan_read_units_estimate = member<double>(scan, "full_scan_read_units_estimate", sw);
  }

  if (!j.contains("state")) {
    parse_error(where + " (" + t.name + "): no \"state\"; only shard reports (written with state) can be merged");
  }
  const json& state = j.at("state");
  t.stats = TargetStats::from_state(member<json>(state, "stats", where + ".state"));
  t.expired_estimate = member_or<double>(state, "expired_estimate", 0.0, where + ".state");
  auto ci = member_or<std::vector<double>>(state, "ci95", {0, 0}, where + ".state");
  if (ci.size() != 2) parse_error(where + ".state.ci95: expected two numbers");
  t.ci95 = {ci[0], ci[1]};
  t.estimated = member<bool>(member<json>(j, "expired", where), "estimated", where + ".expired");

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
  if (j.contains("table_metrics")) {
    const json& m = j.at("table_metrics");
    const std::string mw = where + ".table_metrics";
    TableMetrics tm;
    if (m.contains("item_count") && !m.at("item_count").is_null()) tm.item_count = member<int64_t>(m, "item_count", mw);
    if (m.contains("table_size_bytes") && !m.at("table_size_bytes").is_null()) {
      tm.table_size_bytes = member<int64_t>(m, "table_size_bytes", mw);
    }
    tm.table_status = member_or<std::string>(m, "table_status", "", mw);
    tm.ttl_status = member_or<std::string>(m, "ttl_status", "", mw);
    tm.ttl_attribute = member_or<std::string>(m, "ttl_attribute", "", mw);
    t.table_metrics = tm;
  }
  if (j.contains("anomalies")) {
    const json& arr = j.at("anomalies");
    if (!arr.is_array()) parse_error(where + ".anomalies: not an array");
    for (size_t i = 0; i < arr.size(); ++i) {
      const std::string aw = where + ".anomalies[" + std::to_string(i) + "]";
      t.anomalies.push_back(Anomaly{member<std::string>(arr[i], "rule", aw),
                                    member<std::string>(arr[i], "severity", aw),
                                    member_or<std::string>(arr[i], "message", "", aw),
                                    member_or<double>(arr[i], "value", 0.0, aw),
                                    member_or<double>(arr[i], "threshold", 0.0, aw)});
    }
  }
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
  s.segments_total += p.segments_total;
  s.segments_scanned += p.segments_scanned;
  s.consumed_read_units += p.consumed_read_units;
  s.requests += p.requests;
  s.duration_seconds = std::max(s.duration_seconds, p.duration_seconds);  // shards run in parallel
  if (p.full_scan_read_units_estimate) {
    s.full_scan_read_units_estimate = s.full_scan_read_units_estimate.value_or(0) + *p.full_scan_read_units_estimate;
  }

  const bool any_estimated = into.estimated || part.estimated;
  into.stats.merge(part.stats);
  if (any_estimated) merge_estimates(into, part);

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

Report merge_reports(const std::vector<Report>& parts) {
  if (parts.empty()) throw Error(ErrorKind::kConfig, "merge: no reports to merge");
  Report out;
  out.run = parts.front().run;
  out.run.shard.reset();
  for (size_t i = 0; i < parts.size(); ++i) {
    const RunInfo& r = parts[i].run;
    if (i > 0) {
      out.run.started_at = std::min(out.run.started_at, r.started_at);
      out.run.finished_at = std::max(out.run.finished_at, r.finished_at);
      // Shards should share --as-of; if they did not, report the latest view.
      out.run.as_of = std::max(out.run.as_of, r.as_of);
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
  for (const TargetReport& t : out.targets) out.run.status = worst(out.run.status, t.status);
  return out;
}

}  // namespace ttla
