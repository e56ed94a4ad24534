#include "app/run.h"

#include "core/log.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <random>

#include "app/logging.h"
#include "app/post_audit.h"
#include "app/run_summary.h"
#include "checks/anomalies.h"
#include "core/error.h"
#include "core/time.h"
#include "sources/dynamodb_discovery.h"
#include "sources/kinds.h"
#include "sources/target_limits.h"

namespace ttla {
namespace {

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TargetReport failed_target(const TargetConfig& target, const std::string& reason) {
  TargetReport r;
  r.name = target.name;
  r.kind = target.kind;
  r.status = Status::kFailed;
  r.error = reason;
  r.has_expired = kind_reports_expiry(target.kind);
  return r;
}

// What a target reads, for messages such as target_empty's.
std::string target_scope(const TargetConfig& t) {
  const Kind* kind = find_kind(t.kind);
  return kind != nullptr && kind->scope != nullptr ? kind->scope(t) : std::string();
}

bool selected(const RunOptions& o, const std::string& name) {
  return o.targets.empty() || std::find(o.targets.begin(), o.targets.end(), name) != o.targets.end();
}

// `--target parent` selects every table discovered under it; `--target parent/table` one.
bool selected_discovered(const RunOptions& o, const std::string& parent, const std::string& name) {
  return selected(o, parent) || selected(o, name);
}

bool selects_under(const RunOptions& o, const std::string& parent) {
  if (o.targets.empty()) return true;
  return std::any_of(o.targets.begin(), o.targets.end(), [&](const std::string& n) {
    return n == parent || n.rfind(parent + "/", 0) == 0;
  });
}

// One entry of the run: a target to audit, or a `tables:` target whose discovery failed.
struct Planned {
  TargetConfig target;
  std::optional<std::string> discovery_error;
};

// Expands `tables:` / `buckets:` targets into one target per discovered table (ListTables) or
// bucket (ListBuckets). A failed
// discovery stays one failed target under the parent's name.
std::vector<Planned> plan_targets(const Config& config, const RunOptions& options) {
  std::vector<Planned> out;
  for (const TargetConfig& target : config.targets) {
    if (!is_discovery_target(target)) {
      if (selected(options, target.name)) out.push_back({target, std::nullopt});
      continue;
    }
    if (!selects_under(options, target.name)) continue;
    if (options.cancel != nullptr && options.cancel->load()) {
      out.push_back({target, "cancelled before discovery (signal received)"});
      continue;
    }
    try {
      for (TargetConfig& t : discover_targets(target)) {
        if (selected_discovered(options, target.name, t.name)) out.push_back({std::move(t), std::nullopt});
      }
    } catch (const Error& e) {
      out.push_back({target, "discovery: " + std::string(to_string(e.kind())) + ": " + e.what()});
    } catch (const std::exception& e) {
      out.push_back({target, std::string("discovery: internal: ") + e.what()});
    }
  }
  return out;
}

// Kinds whose source splits its work by RunContext::shard (the row's `shards`; DynamoDB: segments
// s % N == i). Any other kind is audited whole by shard 0 only, and other shards contribute an
// empty (ok) target, so `merge` never counts it N times.
bool kind_supports_shards(const std::string& kind) {
  const Kind* k = find_kind(kind);
  return k != nullptr && k->shards;
}

// max_duration ran out: whatever the source kept is a partial result, with the limit as reason.
// A source that threw (its request was cut short before it had anything) is partial too, with
// nothing measured.
void stopped_by_deadline(TargetReport& r, const TargetConfig& target) {
  if (r.status == Status::kOk) return;  // finished as the clock ran out
  std::string why = r.error.value_or("");
  if (why.rfind("cancelled", 0) == 0) why = "stopped" + why.substr(9);
  if (r.status == Status::kFailed) r.findings_measured = false;
  r.status = Status::kPartial;
  r.error = "max_duration " + format_duration(target.max_duration) + " exceeded" +
            (why.empty() ? "" : ": " + why);
}

// The target boundary: everything a source throws stops here and becomes a failed target.
TargetReport audit_one(const TargetConfig& target, const RunContext& ctx) {
  if (ctx.cancel != nullptr && ctx.cancel->load()) {
    return failed_target(target, "cancelled before the target started (signal received)");
  }
  if (ctx.shard && ctx.shard->first != 0 && !kind_supports_shards(target.kind)) {
    TargetReport empty;
    empty.name = target.name;
    empty.kind = target.kind;
    empty.has_expired = kind_reports_expiry(target.kind);
    empty.findings_measured = false;  // shard 0 measures it
    log::info("target left to shard 0", Fields()
                                            .add("target", target.name)
                                            .add("kind", target.kind)
                                            .add("shard_index", ctx.shard->first)
                                            .add("shard_count", ctx.shard->second));
    return empty;
  }
  std::unique_ptr<Source> source = make_source(target.kind);
  if (!source) return failed_target(target, "kind " + target.kind + " not available in this build");
  const auto t0 = std::chrono::steady_clock::now();
  TargetReport r;
  {
    // The source sees one stop flag: raised by a signal or, with max_duration, by the clock.
    std::optional<TargetDeadline> deadline;
    RunContext target_ctx = ctx;
    if (target.max_duration > 0) {
      deadline.emplace(ctx.cancel, static_cast<double>(target.max_duration));
      target_ctx.cancel = deadline->flag();
    }
    try {
      r = source->audit(target, target_ctx);
    } catch (const Error& e) {
      r = failed_target(target, std::string(to_string(e.kind())) + ": " + e.what());
    } catch (const std::exception& e) {
      r = failed_target(target, std::string("internal: ") + e.what());
    }
    if (deadline && deadline->expired()) stopped_by_deadline(r, target);
  }
  // Whatever the source filled in, the report is labelled by the config.
  r.name = target.name;
  r.kind = target.kind;
  r.scope = target_scope(target);
  // Stopped before the first item: nothing to report on, which is not "0 expired".
  if (r.status == Status::kPartial && r.scan.items_scanned == 0 && r.stats.expired_count() == 0) {
    r.findings_measured = false;
  }
  if (r.status != Status::kOk && r.scan.duration_seconds == 0) {
    r.scan.duration_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  if (r.status != Status::kOk && !r.error) r.error = "stopped early (no reason given)";
  return r;
}

}  // namespace

uint64_t fresh_seed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ static_cast<uint64_t>(rd());
}

bool may_record_state(int64_t as_of, double now, bool record_history) {
  return record_history || std::abs(static_cast<double>(as_of) - now) <= kCurrentTimeSeconds;
}

std::string new_run_id() {
  std::random_device rd;
  const uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ static_cast<uint64_t>(rd());
  static const char* kHex = "0123456789abcdef";
  std::string id(16, '0');
  for (int i = 0; i < 16; ++i) id[i] = kHex[(v >> (60 - 4 * i)) & 0xF];
  return id;
}

std::vector<std::string> unknown_targets(const Config& config,
                                         const std::vector<std::string>& selected_names) {
  std::vector<std::string> out;
  for (const auto& name : selected_names) {
    // A discovered table (`parent/table`) is known once the parent has `tables:`.
    const bool found = std::any_of(config.targets.begin(), config.targets.end(),
                                   [&](const TargetConfig& t) {
                                     return t.name == name ||
                                            (is_discovery_target(t) && name.rfind(t.name + "/", 0) == 0 &&
                                             name.size() > t.name.size() + 1);
                                   });
    if (!found) out.push_back(name);
  }
  return out;
}

Report run_audit(const Config& config, const RunOptions& options) {
  Report report;
  report.run.id = options.run_id.empty() ? new_run_id() : options.run_id;
  report.run.started_at = wall_now();
  report.run.as_of = options.as_of ? *options.as_of
                                   : static_cast<int64_t>(std::floor(report.run.started_at));
  if (options.shard) {
    report.run.shard = std::to_string(options.shard->first) + "/" +
                       std::to_string(options.shard->second);
  }

  RunContext ctx;
  ctx.as_of = report.run.as_of;
  ctx.seed = options.seed ? *options.seed : fresh_seed();
  ctx.shard = options.shard;
  ctx.progress = options.progress;
  ctx.cancel = options.cancel;
  ctx.threads = options.threads;

  const std::string state_dir = options.state_dir.empty() ? config.state_dir : options.state_dir;
  // A shard sees part of each target: its counts would poison the history. `merge` records it.
  const bool record_history = !state_dir.empty() && !options.shard &&
                              may_record_state(report.run.as_of, report.run.started_at, options.record_history);
  if (!state_dir.empty() && !options.shard && !record_history) {
    log::info("history not recorded: --as-of is not the current time (use --record-history)",
              Fields().add("as_of", report.run.as_of));
  }
  PostAudit post(state_dir, record_history);

  ctx.state_dir = state_dir;
  ctx.may_record_state = record_history;

  const std::vector<Planned> planned = plan_targets(config, options);
  {
    Fields f;
    f.add("targets", static_cast<uint64_t>(planned.size()));
    f.add("as_of", report.run.as_of);
    if (options.shard) f.add("shard_index", options.shard->first).add("shard_count", options.shard->second);
    if (!config.source_path.empty()) f.add("config", config.source_path);
    log::info("run started", f);
  }

  for (const Planned& plan : planned) {
    const TargetConfig& target = plan.target;
    TargetReport r = plan.discovery_error ? failed_target(target, *plan.discovery_error)
                                          : audit_one(target, ctx);
    if (options.target_done) options.target_done();

    post.finish_target(r, target.thresholds, wall_now());
    report.run.status = worst(report.run.status, r.status);
    report.targets.push_back(std::move(r));
  }
  report.run.finished_at = wall_now();
  return report;
}

int run_exit_code(const Report& report, const std::string& fail_on, bool sink_failed) {
  bool incomplete = sink_failed;
  for (const auto& t : report.targets) {
    if (t.status != Status::kOk) incomplete = true;
  }
  if (incomplete) return 3;
  if (anomalies_reach(report, fail_on)) return 1;
  return 0;
}

RunOutcome run_pipeline(const Config& config, const RunOptions& options) {
  RunOutcome out;
  out.report = run_audit(config, options);
  PublishOptions publishing;
  publishing.sinks = options.sinks;
  if (options.shard) publishing.sinks.with_state = true;
  publishing.html_file = options.html_file;
  publishing.state_dir = options.state_dir.empty() ? config.state_dir : options.state_dir;
  Published published = publish_report(out.report, publishing);
  out.sink_errors = std::move(published.errors);
  out.written = std::move(published.written);
  out.exit_code = run_exit_code(out.report, options.fail_on, !out.sink_errors.empty());
  // The closing line carries the whole summary (the terminal table shows the same figures).
  log::info("run finished", summary_fields(out.report, out.written).add("exit_code", out.exit_code));
  return out;
}

}  // namespace ttla
