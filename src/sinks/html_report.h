#pragma once
// `--html FILE`: the report as one self-contained page for people (no script, no fetch: inline
// CSS and SVG, and a Content-Security-Policy that forbids loading anything). One card per target
// with the same layout (small multiples): status, expired count (estimate and 95% interval when
// sampled), overdue-age histogram, quantiles, hygiene, top groups, oldest items, deletion rate
// and latency when known, the backlog trend over past runs, and every anomaly with its runbook.
//
// The page shows the numbers of the JSON report of the same run: it renders report_to_json()
// (so rounding, clamping and estimates cannot drift apart), and every number it shows carries
// data-ptr (a JSON pointer into its target's object) and data-value (the JSON value) so a test or
// a scraper can check one against the other. Every string from the data is HTML-escaped.
#include <map>
#include <string>
#include <vector>

#include "core/report.h"

namespace ttla {

// One past run of a target (the state directory's history, oldest first), for the trend chart.
struct TrendPoint {
  double at = 0;       // when the run finished (epoch seconds)
  double expired = 0;  // expired count as reported (estimate when sampled)
  std::string status;  // "ok" | "partial" | "failed"
};
using TrendHistory = std::map<std::string, std::vector<TrendPoint>>;  // by target name

// README anchor of the alert runbook for an anomaly rule (the alerts' runbook_url).
std::string runbook_url(const std::string& rule);

// The page (UTF-8 HTML5).
std::string render_html_report(const Report& report, const TrendHistory& history);

// Writes the page atomically (sinks/atomic_file.h). Throws ttla::Error(kIo) naming the path.
void write_html_report(const std::string& path, const Report& report, const TrendHistory& history);

}  // namespace ttla
