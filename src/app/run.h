#pragma once
// The run pipeline: for each selected target, source -> anomalies (+ history) ; then sinks.
// One failing target never hides the others: its error becomes status failed, one log line and
// a `target_failed` anomaly, and the loop continues.
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/report.h"
#include "sinks/sinks.h"
#include "sources/source.h"

namespace ttla {

struct RunOptions {
  std::optional<int64_t> as_of;        // --as-of; default: now
  std::optional<uint64_t> seed;        // --seed; default: a fresh random seed (fresh_seed)
  std::vector<std::string> targets;    // --target NAME...; empty = all
  std::string fail_on = "critical";    // never | warning | critical
  std::optional<std::pair<int, int>> shard;  // --shard i/N
  std::string state_dir;               // --state-dir; overrides config.state_dir
  std::string run_id;                  // empty: a fresh one (new_run_id)
  std::function<void(const std::string&, const Progress&)> progress;  // may be empty
  std::function<void()> target_done;   // called after each target (progress line reset)
  const std::atomic<bool>* cancel = nullptr;  // set by SIGINT/SIGTERM
  int threads = 0;                     // worker threads per source; 0 = auto
  // --record-history: record history even when --as-of is not the current time (backfills,
  // tests stepping --as-of). Without it only runs audited within kCurrentTimeSeconds of the
  // clock record state: a what-if run must not distort backlog_growth.
  bool record_history = false;
  SinkOptions sinks;                   // used by run_pipeline only
  std::string html_file;               // --html FILE (app/html_output.h), run_pipeline only
};

inline constexpr int64_t kCurrentTimeSeconds = 60;

// A seed drawn from the system's random source (every run without --seed draws one; the report
// records it in scan.seed so the run can be replayed).
uint64_t fresh_seed();

// Whether a run audited as of `as_of` at wall-clock `now` may record state kept between runs.
bool may_record_state(int64_t as_of, double now, bool record_history);

// 16 lowercase hex characters from a random source.
std::string new_run_id();

// Names in `selected` that the config does not define (for a usage error before any work).
std::vector<std::string> unknown_targets(const Config& config,
                                         const std::vector<std::string>& selected);

// Audits every selected target (sequentially; sources parallelise inside), evaluates anomalies
// against the history in the state directory and appends this run to it (not for shard runs:
// `merge` sees the whole). Never throws for a target failure. Publishes nothing.
Report run_audit(const Config& config, const RunOptions& options);

// Exit code of a finished run (CONTRACT): 3 when a target failed or is partial or a sink failed,
// else 1 when anomalies reach `fail_on`, else 0. (2, usage/config, is decided before a run.)
int run_exit_code(const Report& report, const std::string& fail_on, bool sink_failed);

struct RunOutcome {
  Report report;
  std::vector<std::string> sink_errors;
  std::vector<WrittenOutput> written;  // every output written, for the summary
  int exit_code = 0;
};

// run_audit + publish(report, options.sinks) + exit code. Shard runs write mergeable state.
RunOutcome run_pipeline(const Config& config, const RunOptions& options);

}  // namespace ttla
