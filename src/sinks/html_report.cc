#include "sinks/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/time.h"
#include "sinks/atomic_file.h"

namespace ttla {
namespace {

using nlohmann::json;

std::string esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string printf_string(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string with_commas(double v) {
  const bool negative = v < 0;
  std::string digits = printf_string("%.0f", std::fabs(v));
  std::string out;
  const size_t lead = digits.size() % 3;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (i + 3 - lead) % 3 == 0) out += ',';
    out += digits[i];
  }
  return negative ? "-" + out : out;
}

// A number as people read it: whole numbers with separators, others with 2 significant decimals.
std::string show_number(double v) {
  if (std::fabs(v - std::round(v)) < 1e-9 || std::fabs(v) >= 1000) return with_commas(v);
  if (std::fabs(v) >= 10) return printf_string("%.1f", v);
  return printf_string("%.2f", v);
}

std::string show_duration(double seconds) {
  const double s = std::max(0.0, seconds);
  if (s < 10 && s != std::floor(s)) return printf_string("%.1fs", s);
  if (s < 60) return printf_string("%.0fs", s);
  auto two = [](double big, const char* u1, double small, const char* u2) {
    std::string out = printf_string("%.0f", big) + u1;
    if (small >= 1) out += " " + printf_string("%.0f", small) + u2;
    return out;
  };
  if (s < 3600) return two(std::floor(s / 60), "m", std::fmod(std::floor(s), 60), "s");
  if (s < 86400) return two(std::floor(s / 3600), "h", std::floor(std::fmod(s, 3600) / 60), "m");
  return two(std::floor(s / 86400), "d", std::floor(std::fmod(s, 86400) / 3600), "h");
}

std::string show_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (b >= 1024 && u < 5) {
    b /= 1024;
    ++u;
  }
  return (u == 0 ? printf_string("%.0f", b) : printf_string("%.1f", b)) + " " + units[u];
}

// Short bucket label for a histogram bound in seconds.
std::string bound_label(const json& le) {
  if (!le.is_number()) return "more";
  const double s = le.get<double>();
  if (s >= 365 * 86400 && std::fmod(s, 365 * 86400) == 0) return printf_string("%.0fy", s / (365 * 86400));
  if (s >= 86400 && std::fmod(s, 86400) == 0) return printf_string("%.0fd", s / 86400);
  if (s >= 3600 && std::fmod(s, 3600) == 0) return printf_string("%.0fh", s / 3600);
  return show_duration(s);
}

const json* find(const json& t, const std::string& ptr) {
  const json::json_pointer p(ptr);
  if (!t.contains(p)) return nullptr;
  const json& v = t.at(p);
  return v.is_null() ? nullptr : &v;
}

double number_at(const json& t, const std::string& ptr, double fallback = 0) {
  const json* v = find(t, ptr);
  return v && v->is_number() ? v->get<double>() : fallback;
}

// Renders one value of the target's JSON object, tagged with where it comes from so that the
// page can be checked against the report. `show` formats the number; absent values show a dash.
enum class As { kNumber, kDuration, kBytes };
std::string bound_value(const json& t, const std::string& ptr, As as = As::kNumber) {
  const json* v = find(t, ptr);
  if (!v || !v->is_number()) return "<span class=\"none\">&mdash;</span>";
  const double d = v->get<double>();
  std::string shown = as == As::kDuration ? show_duration(d)
                      : as == As::kBytes  ? show_bytes(d)
                                          : show_number(d);
  return "<span data-ptr=\"" + esc(ptr) + "\" data-value=\"" + esc(v->dump()) + "\">" + shown +
         "</span>";
}

std::string status_pill(const std::string& status) {
  return "<span class=\"pill s-" + esc(status) + "\">" + esc(status) + "</span>";
}

constexpr const char* kStyle = R"css(
:root{--ok:#1a7f37;--partial:#9a6700;--failed:#cf222e;--warning:#9a6700;--critical:#cf222e;
--ink:#1f2328;--muted:#656d76;--line:#d0d7de;--bar:#4c72b0;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 -apple-system,"Segoe UI",
"Helvetica Neue",Arial,sans-serif}
header{padding:20px 28px 8px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:0}
h3{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);margin:14px 0 6px}
.meta{color:var(--muted)}
.meta b{color:var(--ink);font-weight:600}
main{padding:8px 28px 28px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:3px 8px 3px 0;border-bottom:1px solid #eaeef2;vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:12px}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.summary{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 16px;
margin-bottom:18px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(540px,1fr));gap:18px}
.panes{display:grid;grid-template-columns:repeat(auto-fit,minmax(430px,1fr));gap:0 32px}
.pane{min-width:0}
.card{background:#fff;border:1px solid var(--line);border-top:5px solid var(--line);
border-radius:8px;padding:14px 18px 16px;min-width:0}
.card.s-ok{border-top-color:var(--ok)}.card.s-partial{border-top-color:var(--partial)}
.card.s-failed{border-top-color:var(--failed)}
.head{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.kind{color:var(--muted);font-size:12px}
.pill{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;
color:#fff;background:var(--muted)}
.pill.s-ok{background:var(--ok)}.pill.s-partial,.pill.s-warning{background:var(--warning)}
.pill.s-failed,.pill.s-critical{background:var(--critical)}
.error{color:var(--failed);margin:6px 0 0;overflow-wrap:anywhere}
.kpis{display:flex;flex-wrap:wrap;gap:6px 26px;margin-top:10px}
.kpi .v{font-size:24px;font-weight:600;font-variant-numeric:tabular-nums}
.kpi .l{color:var(--muted);font-size:12px}
.ci{color:var(--muted);font-size:12px}
.none{color:var(--muted)}
.key{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;overflow-wrap:anywhere}
.bar{height:8px;background:var(--bar);border-radius:2px;min-width:1px}
ul.anomalies{list-style:none;padding:0;margin:0}
ul.anomalies li{padding:6px 0;border-bottom:1px solid #eaeef2}
ul.anomalies .rule{font-weight:600;margin:0 6px}
a{color:#0969da}
svg text{font:11px -apple-system,"Segoe UI",Arial,sans-serif;fill:var(--muted)}
svg .b{fill:var(--bar)}svg .axis{stroke:var(--line)}
svg .trend{fill:none;stroke:var(--bar);stroke-width:2}
svg .p-ok{fill:var(--ok)}svg .p-partial{fill:var(--partial)}svg .p-failed{fill:var(--failed)}
footer{color:var(--muted);padding:0 28px 24px;font-size:12px}
)css";

// The overdue-age histogram as bars: the JSON's buckets are cumulative (Prometheus `le`), the
// bars show each bucket's own count; every bar carries the cumulative value it comes from.
std::string histogram_svg(const json& t) {
  const json* h = find(t, "/expired/histogram");
  if (!h || !h->is_array() || h->empty()) return "<p class=\"none\">no histogram</p>";
  const size_t n = h->size();
  std::vector<double> own(n);
  double previous = 0, tallest = 0;
  for (size_t i = 0; i < n; ++i) {
    const double cum = (*h)[i].value("count", 0.0);
    own[i] = std::max(0.0, cum - previous);
    previous = cum;
    tallest = std::max(tallest, own[i]);
  }
  const double width = 500, height = 120, top = 14, label = 18;
  const double slot = width / static_cast<double>(n);
  std::string svg = "<svg class=\"hist\" viewBox=\"0 0 500 " +
                    printf_string("%.0f", top + height + label) +
                    "\" width=\"100%\" role=\"img\" aria-label=\"expired items by overdue age\">";
  svg += "<line class=\"axis\" x1=\"0\" x2=\"500\" y1=\"" + printf_string("%.1f", top + height) +
         "\" y2=\"" + printf_string("%.1f", top + height) + "\"/>";
  std::string lower = "0";
  for (size_t i = 0; i < n; ++i) {
    const json& bucket = (*h)[i];
    const std::string upper = bound_label(bucket["le"]);
    const double bar = tallest > 0 ? own[i] / tallest * height : 0;
    const double x = static_cast<double>(i) * slot + 3;
    const std::string ptr = "/expired/histogram/" + std::to_string(i) + "/count";
    const std::string range = i + 1 == n ? "over " + lower : lower + "\u2013" + upper;
    svg += "<g data-ptr=\"" + ptr + "\" data-value=\"" + esc(bucket["count"].dump()) + "\">";
    svg += "<title>" + esc(range) + " overdue: " + with_commas(own[i]) + " items</title>";
    svg += "<rect class=\"b\" x=\"" + printf_string("%.1f", x) + "\" y=\"" +
           printf_string("%.1f", top + height - bar) + "\" width=\"" +
           printf_string("%.1f", slot - 6) + "\" height=\"" + printf_string("%.1f", bar) + "\"/>";
    if (own[i] > 0) {
      svg += "<text x=\"" + printf_string("%.1f", x + (slot - 6) / 2) + "\" y=\"" +
             printf_string("%.1f", top + height - bar - 3) + "\" text-anchor=\"middle\">" +
             esc(show_number(own[i])) + "</text>";
    }
    svg += "<text x=\"" + printf_string("%.1f", x + (slot - 6) / 2) + "\" y=\"" +
           printf_string("%.1f", top + height + 13) + "\" text-anchor=\"middle\">" +
           esc(i + 1 == n ? ">" + lower : "\u2264" + upper) + "</text></g>";
    lower = upper;
  }
  return svg + "</svg>";
}

// The expired count over past runs (the state directory's history) as a line.
std::string trend_svg(const std::vector<TrendPoint>& points) {
  if (points.empty()) {
    return "<p class=\"none\">no history (a state directory keeps past runs)</p>";
  }
  const double width = 500, height = 90, left = 52, top = 10, bottom = 18;
  double t0 = points.front().at, t1 = points.back().at, peak = 0;
  for (const auto& p : points) {
    t0 = std::min(t0, p.at);
    t1 = std::max(t1, p.at);
    peak = std::max(peak, p.expired);
  }
  const double span = t1 > t0 ? t1 - t0 : 1;
  const double ymax = peak > 0 ? peak : 1;
  auto x = [&](double at) {
    return points.size() == 1 ? left + (width - left) / 2
                              : left + (at - t0) / span * (width - left - 8);
  };
  auto y = [&](double v) { return top + height - v / ymax * height; };
  std::string svg = "<svg class=\"trend-chart\" viewBox=\"0 0 500 " +
                    printf_string("%.0f", top + height + bottom) +
                    "\" width=\"100%\" role=\"img\" aria-label=\"expired backlog over past runs\">";
  svg += "<line class=\"axis\" x1=\"" + printf_string("%.0f", left) + "\" x2=\"500\" y1=\"" +
         printf_string("%.1f", top + height) + "\" y2=\"" + printf_string("%.1f", top + height) + "\"/>";
  svg += "<text x=\"" + printf_string("%.0f", left - 6) + "\" y=\"" + printf_string("%.0f", top + 4) +
         "\" text-anchor=\"end\">" + esc(show_number(ymax)) + "</text>";
  svg += "<text x=\"" + printf_string("%.0f", left - 6) + "\" y=\"" +
         printf_string("%.0f", top + height) + "\" text-anchor=\"end\">0</text>";
  svg += "<text x=\"" + printf_string("%.0f", left) + "\" y=\"" +
         printf_string("%.0f", top + height + 14) + "\">" + esc(format_rfc3339(static_cast<int64_t>(t0))) + "</text>";
  if (points.size() > 1) {
    svg += "<text x=\"500\" y=\"" + printf_string("%.0f", top + height + 14) +
           "\" text-anchor=\"end\">" + esc(format_rfc3339(static_cast<int64_t>(t1))) + "</text>";
    std::string path;
    for (const auto& p : points) {
      path += (path.empty() ? "" : " ") + printf_string("%.1f", x(p.at)) + "," + printf_string("%.1f", y(p.expired));
    }
    svg += "<polyline class=\"trend\" points=\"" + path + "\"/>";
  }
  for (const auto& p : points) {
    const std::string status = p.status.empty() ? "ok" : p.status;
    svg += "<circle class=\"p-" + esc(status) + "\" r=\"3.5\" cx=\"" + printf_string("%.1f", x(p.at)) +
           "\" cy=\"" + printf_string("%.1f", y(p.expired)) + "\" data-at=\"" +
           esc(json(p.at).dump()) + "\" data-expired=\"" + esc(json(p.expired).dump()) +
           "\"><title>" + esc(format_rfc3339(static_cast<int64_t>(p.at))) + ": " +
           esc(show_number(p.expired)) + " expired (" + esc(status) + ")</title></circle>";
  }
  svg += "</svg>";
  if (points.size() == 1) {
    svg += "<p class=\"meta\">one run so far: with a state directory each run adds a point</p>";
  }
  return svg;
}

std::string expired_kpis(const json& t) {
  std::string out = "<div class=\"kpis\">";
  out += "<div class=\"kpi\"><div class=\"v\">" + bound_value(t, "/expired/count") + "</div>";
  out += "<div class=\"l\">expired";
  if (t.value("/expired/estimated"_json_pointer, false)) {
    out += " (estimate)</div><div class=\"ci\">95% interval " + bound_value(t, "/expired/ci95/0") +
           " &ndash; " + bound_value(t, "/expired/ci95/1");
  }
  out += "</div></div>";
  auto kpi = [&](const std::string& ptr, const char* label, As as) {
    if (!find(t, ptr)) return;
    out += "<div class=\"kpi\"><div class=\"v\">" + bound_value(t, ptr, as) +
           "</div><div class=\"l\">" + label + "</div></div>";
  };
  kpi("/expired/oldest_overdue_seconds", "oldest overdue", As::kDuration);
  kpi("/expired/bytes", "expired bytes", As::kBytes);
  kpi("/scan/items_scanned", "items read", As::kNumber);
  return out + "</div>";
}

std::string scan_line(const json& t) {
  std::string out = "<p class=\"meta\">" + esc(t.value("/scan/mode"_json_pointer, std::string("full"))) +
                    " scan";
  if (find(t, "/scan/segments_total") && number_at(t, "/scan/segments_total") > 0) {
    out += ", " + bound_value(t, "/scan/segments_scanned") + "/" +
           bound_value(t, "/scan/segments_total") + " segments";
  }
  if (number_at(t, "/scan/consumed_read_units") > 0) {
    out += ", " + bound_value(t, "/scan/consumed_read_units") + " read units";
  }
  out += ", " + bound_value(t, "/scan/duration_seconds", As::kDuration);
  if (const json* m = find(t, "/table_metrics")) {
    if (m->contains("ttl_status") && !(*m)["ttl_status"].get<std::string>().empty()) {
      out += " &middot; TTL " + esc((*m)["ttl_status"].get<std::string>());
      const std::string attr = m->value("ttl_attribute", std::string());
      if (!attr.empty()) out += " on <span class=\"key\">" + esc(attr) + "</span>";
    }
    if (find(t, "/table_metrics/item_count")) {
      out += " &middot; ItemCount ~" + bound_value(t, "/table_metrics/item_count");
    }
  }
  return out + "</p>";
}

std::string quantiles_table(const json& t) {
  std::string out = "<h3>Overdue age</h3><table><tr>";
  const char* heads[] = {"p50", "p90", "p99", "newest", "oldest"};
  for (const char* h : heads) out += std::string("<th class=\"n\">") + h + "</th>";
  out += "</tr><tr>";
  for (const char* q : {"p50", "p90", "p99"}) {
    out += "<td class=\"n\">" +
           bound_value(t, std::string("/expired/overdue_seconds_quantiles/") + q, As::kDuration) + "</td>";
  }
  out += "<td class=\"n\">" + bound_value(t, "/expired/newest_overdue_seconds", As::kDuration) + "</td>";
  out += "<td class=\"n\">" + bound_value(t, "/expired/oldest_overdue_seconds", As::kDuration) + "</td>";
  return out + "</tr></table>";
}

std::string hygiene_table(const json& t) {
  const json* h = find(t, "/hygiene");
  if (!h || !h->is_object()) return "";
  const bool estimated = t.value("hygiene_estimated", false);
  double largest = 0;
  for (const auto& [k, v] : h->items()) largest = std::max(largest, v.is_number() ? v.get<double>() : 0);
  std::string out = "<h3>TTL hygiene" + std::string(estimated ? " (estimates)" : "") +
                    "</h3><table><tr><th>class</th><th class=\"n\">items</th>";
  if (estimated) out += "<th class=\"n\">95% interval</th>";
  out += "<th style=\"width:35%\"></th></tr>";
  for (const auto& [k, v] : h->items()) {
    const std::string ptr = "/hygiene/" + k;
    const double share = largest > 0 && v.is_number() ? v.get<double>() / largest * 100 : 0;
    out += "<tr><td>" + esc(k) + "</td><td class=\"n\">" + bound_value(t, ptr) + "</td>";
    if (estimated) {
      out += "<td class=\"n\">" + bound_value(t, "/hygiene_ci95/" + k + "/0") + " &ndash; " +
             bound_value(t, "/hygiene_ci95/" + k + "/1") + "</td>";
    }
    out += "<td><div class=\"bar\" style=\"width:" + printf_string("%.1f", share) + "%\"></div></td></tr>";
  }
  return out + "</table>";
}

std::string groups_table(const json& t) {
  const json* g = find(t, "/expired/top_groups");
  if (!g || !g->is_array() || g->empty()) return "";
  const double largest = (*g)[0].value("count", 0.0);
  std::string out = "<h3>Top groups</h3><table><tr><th>group</th><th class=\"n\">expired</th>"
                    "<th style=\"width:35%\"></th></tr>";
  const size_t shown = std::min<size_t>(g->size(), 10);
  for (size_t i = 0; i < shown; ++i) {
    const json& row = (*g)[i];
    const double share = largest > 0 ? row.value("count", 0.0) / largest * 100 : 0;
    out += "<tr><td class=\"key\">" + esc(row.value("group", std::string())) + "</td><td class=\"n\">" +
           bound_value(t, "/expired/top_groups/" + std::to_string(i) + "/count") +
           "</td><td><div class=\"bar\" style=\"width:" + printf_string("%.1f", share) +
           "%\"></div></td></tr>";
  }
  return out + "</table>";
}

std::string oldest_items_table(const json& t) {
  const json* items = find(t, "/expired/oldest_items");
  if (!items || !items->is_array() || items->empty()) return "";
  std::string out = "<h3>Most overdue</h3><table><tr><th>item</th><th class=\"n\">overdue</th></tr>";
  const size_t shown = std::min<size_t>(items->size(), 5);
  for (size_t i = 0; i < shown; ++i) {
    out += "<tr><td class=\"key\">" + esc((*items)[i].value("key", std::string())) +
           "</td><td class=\"n\">" +
           bound_value(t, "/expired/oldest_items/" + std::to_string(i) + "/overdue_seconds",
                       As::kDuration) +
           "</td></tr>";
  }
  return out + "</table>";
}

std::string deletion_block(const json& t) {
  const json* d = find(t, "/deletion");
  if (!d || !d->is_object()) return "";
  std::string out = "<h3>Deletion (" + esc(d->value("source", std::string("?"))) + ")</h3>";
  if (d->contains("error")) {
    return out + "<p class=\"error\">" + esc((*d)["error"].is_string() ? (*d)["error"].get<std::string>()
                                                                       : (*d)["error"].dump()) +
           "</p>";
  }
  out += "<table><tr><th class=\"n\">per hour</th><th class=\"n\">in window</th>"
         "<th class=\"n\">window</th><th class=\"n\">drain ETA</th></tr><tr>";
  out += "<td class=\"n\">" + bound_value(t, "/deletion/rate_per_hour") + "</td>";
  out += "<td class=\"n\">" + bound_value(t, "/deletion/deleted_in_window") + "</td>";
  out += "<td class=\"n\">" + bound_value(t, "/deletion/window_seconds", As::kDuration) + "</td>";
  out += "<td class=\"n\">" + bound_value(t, "/deletion/drain_eta_seconds", As::kDuration) + "</td></tr></table>";
  if (find(t, "/deletion/latency_seconds_quantiles")) {
    out += "<table><tr><th>latency</th><th class=\"n\">p50</th><th class=\"n\">p90</th>"
           "<th class=\"n\">p99</th></tr><tr><td>" +
           esc(d->value("latency_source", std::string())) + "</td>";
    for (const char* q : {"p50", "p90", "p99"}) {
      out += "<td class=\"n\">" +
             bound_value(t, std::string("/deletion/latency_seconds_quantiles/") + q, As::kDuration) +
             "</td>";
    }
    out += "</tr></table>";
  }
  return out;
}

std::string s3_block(const json& t) {
  std::string out;
  if (find(t, "/multipart")) {
    out += "<tr><td>stale multipart uploads</td><td class=\"n\">" + bound_value(t, "/multipart/stale_count") +
           "</td><td class=\"n\">oldest " +
           bound_value(t, "/multipart/oldest_age_seconds", As::kDuration) + "</td></tr>";
  }
  if (find(t, "/noncurrent")) {
    out += "<tr><td>expired noncurrent versions</td><td class=\"n\">" +
           bound_value(t, "/noncurrent/expired_count") + "</td><td class=\"n\">" +
           bound_value(t, "/noncurrent/expired_bytes", As::kBytes) + "</td></tr>";
  }
  return out.empty() ? "" : "<h3>Storage leftovers</h3><table>" + out + "</table>";
}

std::string trend_block(const json& t, const std::vector<TrendPoint>* points) {
  std::string out = "<h3>Backlog trend</h3>";
  if (const json* b = find(t, "/backlog_trend")) {
    out += "<p class=\"meta\"><b>" + esc(b->value("direction", std::string("?"))) + "</b>, " +
           bound_value(t, "/backlog_trend/rate_items_per_hour") + " items/hour";
    if (find(t, "/backlog_trend/drain_estimate_seconds")) {
      out += ", drained in ~" + bound_value(t, "/backlog_trend/drain_estimate_seconds", As::kDuration);
    }
    out += "</p>";
  }
  return out + trend_svg(points ? *points : std::vector<TrendPoint>{});
}

std::string anomalies_block(const json& t) {
  const json* list = find(t, "/anomalies");
  if (!list || !list->is_array() || list->empty()) {
    return "<h3>Anomalies</h3><p class=\"none\">none</p>";
  }
  std::string out = "<h3>Anomalies</h3><ul class=\"anomalies\">";
  for (size_t i = 0; i < list->size(); ++i) {
    const json& a = (*list)[i];
    const std::string rule = a.value("rule", std::string());
    const std::string severity = a.value("severity", std::string());
    const std::string base = "/anomalies/" + std::to_string(i);
    out += "<li data-rule=\"" + esc(rule) + "\" data-severity=\"" + esc(severity) + "\">" +
           "<span class=\"pill s-" + esc(severity) + "\">" + esc(severity) + "</span>" +
           "<span class=\"rule\">" + esc(rule) + "</span>" + esc(a.value("message", std::string())) +
           " <span class=\"meta\">(value " + bound_value(t, base + "/value") + ", threshold " +
           bound_value(t, base + "/threshold") + ")</span> <a href=\"" + esc(runbook_url(rule)) +
           "\">runbook</a></li>";
  }
  return out + "</ul>";
}

std::string target_id(const std::string& name) { return "t-" + name; }

std::string target_card(const json& t, const std::vector<TrendPoint>* trend) {
  const std::string name = t.value("name", std::string());
  const std::string status = t.value("status", std::string("ok"));
  std::string out = "<section class=\"card s-" + esc(status) + "\" id=\"" + esc(target_id(name)) +
                    "\" data-target=\"" + esc(name) + "\">";
  out += "<div class=\"head\"><h2>" + esc(name) + "</h2><span class=\"kind\">" +
         esc(t.value("kind", std::string())) + "</span>" + status_pill(status) + "</div>";
  if (t.contains("error") && t["error"].is_string()) {
    out += "<p class=\"error\">" + esc(t["error"].get<std::string>()) + "</p>";
  }
  out += scan_line(t);
  out += expired_kpis(t);
  // Panes flow into two columns when the card is wide (a lone target), one when cards share a row.
  auto pane = [](const std::string& body) {
    return body.empty() ? std::string() : "<div class=\"pane\">" + body + "</div>";
  };
  out += "<div class=\"panes\">";
  out += pane("<h3>Expired items by overdue age</h3>" + histogram_svg(t) + quantiles_table(t));
  out += pane(trend_block(t, trend) + deletion_block(t));
  out += pane(hygiene_table(t) + s3_block(t));
  out += pane(groups_table(t));
  out += pane(oldest_items_table(t));
  out += "</div>";
  out += anomalies_block(t);
  return out + "</section>";
}

std::string summary_table(const json& doc) {
  std::string out = "<div class=\"summary\"><table><tr><th>target</th><th>kind</th><th>status</th>"
                    "<th class=\"n\">expired</th><th class=\"n\">oldest overdue</th>"
                    "<th class=\"n\">anomalies</th></tr>";
  for (const json& t : doc["targets"]) {
    const std::string name = t.value("name", std::string());
    size_t critical = 0, warning = 0;
    for (const json& a : t.value("anomalies", json::array())) {
      (a.value("severity", std::string()) == "critical" ? critical : warning) += 1;
    }
    out += "<tr><td><a href=\"#" + esc(target_id(name)) + "\">" + esc(name) + "</a></td><td>" +
           esc(t.value("kind", std::string())) + "</td><td>" +
           status_pill(t.value("status", std::string("ok"))) + "</td><td class=\"n\">" +
           bound_value(t, "/expired/count") + "</td><td class=\"n\">" +
           bound_value(t, "/expired/oldest_overdue_seconds", As::kDuration) + "</td><td class=\"n\">";
    if (critical) out += "<span class=\"pill s-critical\">" + std::to_string(critical) + "</span> ";
    if (warning) out += "<span class=\"pill s-warning\">" + std::to_string(warning) + "</span>";
    if (!critical && !warning) out += "<span class=\"none\">0</span>";
    out += "</td></tr>";
  }
  return out + "</table></div>";
}

}  // namespace

std::string runbook_url(const std::string& rule) {
  // One README heading per alert (alerts/ttl-auditor.rules.yml); rules without an alert of their
  // own are covered by TTLAuditorAnomaly.
  static const std::map<std::string, std::string> kAnchor = {
      {"target_failed", "ttlauditortargetfailing"},
      {"target_partial", "ttlauditortargetpartial"},
      {"ttl_disabled", "ttlauditorttldisabled"},
      {"lifecycle_missing", "ttlauditorlifecyclemissing"},
      {"table_not_active", "ttlauditortablenotactive"},
      {"oldest_overdue", "ttlauditoroldestoverduepastwindow"},
      {"expired_backlog", "ttlauditorexpiredbackloghigh"},
      {"backlog_growth", "ttlauditorbackloggrowing"},
      {"ttl_stalled", "ttlauditorttlstalled"},
      {"ttl_hygiene", "ttlauditorttlhygiene"},
      {"stale_multipart", "ttlauditorstalemultipart"},
  };
  auto it = kAnchor.find(rule);
  return "https://github.com/ttl-auditor/ttl-auditor/blob/main/README.md#" +
         (it == kAnchor.end() ? std::string("ttlauditoranomaly") : it->second);
}

std::string render_html_report(const Report& report, const TrendHistory& history) {
  const json doc = report_to_json(report);
  const json& run = doc["run"];
  std::string out;
  out.reserve(64 * 1024);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
         // Self-contained by construction: the page may load nothing at all.
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
         "style-src 'unsafe-inline'\">";
  out += "<title>ttl-auditor report " + esc(run.value("as_of", std::string())) + "</title>";
  out += std::string("<style>") + kStyle + "</style></head><body>";
  out += "<header><h1>ttl-auditor report</h1><div class=\"meta\">as of <b>" +
         esc(run.value("as_of", std::string())) + "</b> &middot; run " + status_pill(run.value("status", std::string())) +
         " &middot; started " + esc(run.value("started_at", std::string())) + " &middot; " +
         esc(show_duration(run.value("duration_seconds", 0.0))) + " &middot; id <span class=\"key\">" +
         esc(run.value("id", std::string())) + "</span></div></header><main>";
  out += summary_table(doc);
  out += "<div class=\"grid\">";
  for (const json& t : doc["targets"]) {
    auto it = history.find(t.value("name", std::string()));
    out += target_card(t, it == history.end() ? nullptr : &it->second);
  }
  out += "</div></main><footer>" + esc(doc["tool"].value("name", std::string())) + " " +
         esc(doc["tool"].value("version", std::string())) +
         " &middot; the JSON report of the same run holds every number shown here</footer>"
         "</body></html>\n";
  return out;
}

void write_html_report(const std::string& path, const Report& report, const TrendHistory& history) {
  write_file_atomic(path, render_html_report(report, history));
}

}  // namespace ttla
