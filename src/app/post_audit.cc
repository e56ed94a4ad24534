#include "app/post_audit.h"

#include "core/log.h"

#include <exception>

#include "app/html_output.h"
#include "app/run_summary.h"
#include "checks/anomalies.h"
#include "core/log_fields.h"
#include "sinks/lock.h"

namespace ttla {
namespace {

void log_target_status(const TargetReport& r, const Fields& f) {
  switch (r.status) {
    case Status::kOk:
      log::info("target audited", f);
      break;
    case Status::kPartial:
      log::warn("target partial", f);
      break;
    case Status::kFailed:
      log::error("target failed", f);
      break;
  }
}

}  // namespace

std::string history_lock_path(const std::string& state_dir) {
  return state_dir + "/.ttl-auditor-history.lock";
}

PostAudit::PostAudit(const std::string& state_dir, bool record)
    : history_(state_dir), lock_path_(history_lock_path(state_dir)), record_(record && !state_dir.empty()) {}

void PostAudit::finish_target(TargetReport& r, const Thresholds& thresholds, double now) {
  std::vector<HistoryPoint> past;
  if (history_.enabled()) {
    try {
      past = history_.load(r.name);
    } catch (const std::exception& e) {
      log::warn("history unreadable, growth checks skipped", Fields()
              .add("target", r.name)
              .add("error", e.what()));
    }
  }
  r.anomalies.clear();
  evaluate_anomalies(r, thresholds, past, now);
  if (record_) {
    const HistoryPoint point = history_point(r, now);
    try {
      // Read-modify-write of the history file: overlapping runs on one host take turns.
      RunLock lock(lock_path_, kHistoryLockWaitSeconds);
      history_.append(r.name, point, thresholds.history_runs);
    } catch (const std::exception& e) {
      log::warn("history not recorded", Fields().add("target", r.name).add("error", e.what()));
    }
  }
  log_target(r);
}

void PostAudit::log_target(const TargetReport& r) {
  Fields f;
  f.add("target", r.name).add("kind", r.kind).add("status", std::string(to_string(r.status)));
  f.add("items_scanned", r.scan.items_scanned);
  if (r.has_findings() && r.has_expired) {
    f.add("expired", r.expired_count_reported());
    f.add("oldest_overdue_seconds", r.stats.oldest_overdue_seconds());
  }
  f.add("duration_seconds", r.scan.duration_seconds);
  if (r.status != Status::kFailed && r.stats.expired_count() > 0) {
    f.add("oldest_overdue", human_duration(r.stats.oldest_overdue_seconds()));
  }
  if (r.error) f.add("error", *r.error);
  f.add("anomalies", static_cast<uint64_t>(r.anomalies.size()));
  log_target_status(r, f);
  // One warn line per fired rule: visible at the default level and with --log-level warn, so a
  // run that exits 1 always says why.
  for (const Anomaly& a : r.anomalies) {
    log::warn("anomaly", Fields()
                             .add("rule", a.rule)
                             .add("severity", a.severity)
                             .add("target", r.name)
                             .add("kind", r.kind)
                             .add("value", a.value)
                             .add("threshold", a.threshold)
                             .add("message", a.message));
  }
}

Published publish_report(const Report& report, const PublishOptions& options) {
  Published out;
  try {
    out.errors = publish(report, options.sinks, &out.written);
  } catch (const std::exception& e) {
    out.errors.push_back(e.what());
  }
  if (!options.html_file.empty()) {
    try {
      write_html_output(options.html_file, report, options.state_dir);
      log::info("output written", Fields().add("sink", "html").add("path", options.html_file));
    } catch (const std::exception& e) {
      out.errors.push_back(std::string("html: ") + e.what());
    }
  }
  // publish() only collects: each failure is logged here, once.
  for (const auto& e : out.errors) log::error("sink failed", Fields().add("error", e));
  return out;
}

}  // namespace ttla
