#include "app/html_output.h"

#include "core/log.h"

#include <exception>

#include "checks/history.h"

namespace ttla {

TrendHistory load_trend_history(const Report& report, const std::string& state_dir) {
  TrendHistory out;
  HistoryStore store(state_dir);
  for (const TargetReport& t : report.targets) {
    std::vector<TrendPoint>& points = out[t.name];
    if (store.enabled()) {
      try {
        for (const HistoryPoint& p : store.load(t.name)) {
          points.push_back({p.finished_at, p.expired, p.status});
        }
      } catch (const std::exception& e) {
        log::warn("html: history unreadable, trend left empty", Fields()
                .add("target", t.name)
                .add("error", e.what()));
        points.clear();
      }
    }
    // A run records itself between its start and its finish; one that did not is shown anyway.
    if (points.empty() || points.back().at < report.run.started_at) {
      const HistoryPoint now = history_point(t, report.run.finished_at);
      points.push_back({now.finished_at, now.expired, now.status});
    }
  }
  return out;
}

void write_html_output(const std::string& path, const Report& report, const std::string& state_dir) {
  write_html_report(path, report, load_trend_history(report, state_dir));
}

}  // namespace ttla
