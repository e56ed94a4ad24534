#include "app/run_summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app/progress.h"

namespace ttla {
namespace {

std::string count_text(double v) {
  return with_commas(static_cast<uint64_t>(std::llround(std::max(0.0, v))));
}

std::string expired_cell(const TargetReport& t) {
  if (t.status == Status::kFailed) return "-";
  if (!t.estimated) return count_text(t.expired_count_reported());
  // Appended, not `"~" + std::string&&`: GCC 12 at -O3 reports a false -Wrestrict there (GCC bug
  // 105329).
  std::string cell = "~";
  cell += count_text(t.expired_count_reported());
  cell += " (95%: ";
  cell += count_text(t.ci95[0]);
  cell += '-';
  cell += count_text(t.ci95[1]);
  cell += ')';
  return cell;
}

std::string oldest_cell(const TargetReport& t) {
  if (t.status == Status::kFailed || t.stats.expired_count() == 0) return "-";
  return human_duration(t.stats.oldest_overdue_seconds());
}

std::string anomalies_cell(const TargetReport& t) {
  if (t.anomalies.empty()) return "-";
  std::string out;
  for (const auto& a : t.anomalies) {
    if (!out.empty()) out += ", ";
    out += a.rule + " (" + a.severity + ")";
  }
  return out;
}

// "report written to", "metrics written to", "metrics pushed to".
std::string written_line(const WrittenOutput& w) {
  if (w.sink == "pushgateway") return "metrics pushed to " + w.where;
  if (w.sink == "textfile") return "metrics written to " + w.where;
  return "report written to " + w.where;
}

// What the exit code means (cli.h), so a terminal user need not look it up.
std::string exit_reason(int exit_code) {
  switch (exit_code) {
    case 1: return " (anomalies at or above --fail-on)";
    case 3: return " (a target failed or stopped early, or an output could not be written)";
    default: return "";
  }
}

}  // namespace

std::string human_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "-";
  char buf[64];
  if (seconds < 1 && seconds > 0) {
    std::snprintf(buf, sizeof buf, "%.0fms", seconds * 1000);
    return buf;
  }
  if (seconds < 10 && seconds != std::floor(seconds)) {
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
    return buf;
  }
  const auto s = static_cast<uint64_t>(std::llround(seconds));
  const uint64_t d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60;
  if (d > 0) {
    std::snprintf(buf, sizeof buf, "%llud %lluh", static_cast<unsigned long long>(d),
                  static_cast<unsigned long long>(h));
  } else if (h > 0) {
    std::snprintf(buf, sizeof buf, "%lluh %llum", static_cast<unsigned long long>(h),
                  static_cast<unsigned long long>(m));
  } else if (m > 0) {
    std::snprintf(buf, sizeof buf, "%llum %llus", static_cast<unsigned long long>(m),
                  static_cast<unsigned long long>(sec));
  } else {
    std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(sec));
  }
  return buf;
}

std::string summary_table(const Report& report, const std::vector<WrittenOutput>& written,
                          int exit_code) {
  std::vector<std::vector<std::string>> rows = {
      {"TARGET", "STATUS", "EXPIRED", "OLDEST OVERDUE", "ANOMALIES"}};
  for (const auto& t : report.targets) {
    rows.push_back({t.name, std::string(to_string(t.status)), expired_cell(t), oldest_cell(t),
                    anomalies_cell(t)});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t c = 0; c < r.size(); ++c) {
      line += r[c];
      if (c + 1 < r.size()) line += std::string(width[c] - r[c].size() + 2, ' ');
    }
    out += line + "\n";
  }
  out += "\n";
  for (const auto& w : written) out += written_line(w) + "\n";
  size_t anomalies = 0, critical = 0;
  for (const auto& t : report.targets) {
    anomalies += t.anomalies.size();
    for (const auto& a : t.anomalies) critical += a.severity == "critical";
  }
  out += "run ";
  out += to_string(report.run.status);
  out += " in " +
         human_duration(report.run.finished_at - report.run.started_at) + ": " +
         std::to_string(report.targets.size()) +
         (report.targets.size() == 1 ? " target, " : " targets, ") + std::to_string(anomalies) +
         (anomalies == 1 ? " anomaly" : " anomalies") + " (" + std::to_string(critical) +
         " critical); exit " + std::to_string(exit_code) + exit_reason(exit_code) + "\n";
  return out;
}

Fields summary_fields(const Report& report, const std::vector<WrittenOutput>& written) {
  uint64_t ok = 0, partial = 0, failed = 0, total = 0, critical = 0, warning = 0;
  double expired = 0, oldest = 0;
  for (const auto& t : report.targets) {
    ok += t.status == Status::kOk;
    partial += t.status == Status::kPartial;
    failed += t.status == Status::kFailed;
    if (t.status != Status::kFailed) {
      expired += t.expired_count_reported();
      if (t.stats.expired_count() > 0) oldest = std::max(oldest, t.stats.oldest_overdue_seconds());
    }
    total += t.anomalies.size();
    for (const auto& a : t.anomalies) {
      critical += a.severity == "critical";
      warning += a.severity == "warning";
    }
  }
  Fields f;
  f.add("status", std::string(to_string(report.run.status)))
      .add("targets", static_cast<uint64_t>(report.targets.size()))
      .add("targets_ok", ok)
      .add("targets_partial", partial)
      .add("targets_failed", failed)
      .add("expired", expired)
      .add("oldest_overdue_seconds", oldest)
      .add("oldest_overdue", human_duration(oldest))
      .add("anomalies", total)
      .add("anomalies_critical", critical)
      .add("anomalies_warning", warning)
      .add("duration_seconds", report.run.finished_at - report.run.started_at);
  for (const auto& w : written) f.add(w.sink + "_path", w.where);
  return f;
}

}  // namespace ttla
