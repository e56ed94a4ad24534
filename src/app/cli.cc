#include "app/cli.h"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/iam_policy.h"
#include "app/logging.h"
#include "app/preflight.h"
#include "app/progress.h"
#include "app/run.h"
#include "checks/anomalies.h"
#include "checks/history.h"
#include "config/config.h"
#include "core/error.h"
#include "core/report.h"
#include "core/time.h"
#include "sinks/sinks.h"
#include "sources/sampling.h"
#include "sources/source.h"
#include "ttla_version.h"

#if __has_include("app/serve.h")
#include "app/serve.h"
#define TTLA_HAVE_SERVE 1
#else
#define TTLA_HAVE_SERVE 0
#endif

namespace ttla {
namespace {

constexpr const char* kExitCodesHelp =
    "Exit codes (when several apply, the first in this order wins: 2 > 3 > 1 > 0):\n"
    "  2  usage or config error (nothing was audited)\n"
    "  3  a target failed or stopped early (partial), or a sink could not publish\n"
    "  1  anomalies at or above --fail-on (default critical)\n"
    "  0  clean\n";

const std::string kRunFooter = std::string(
    "Examples:\n"
    "  ttl-auditor run --config /etc/ttl-auditor/config.yaml --textfile "
    "/var/lib/node_exporter/textfile/ttl_auditor.prom\n"
    "  ttl-auditor run --config config.yaml --target sessions --report sessions.json\n"
    "  ttl-auditor run --config config.yaml --plan   # items, bytes, read units and time; no scan\n"
    "  ttl-auditor run --config config.yaml --as-of 2026-11-27T00:00:00Z --report friday.json\n"
    "      (what will be overdue by Friday)\n"
    "  ttl-auditor run --config config.yaml --fail-on warning --log-format json\n"
    "  ttl-auditor run --config config.yaml --shard auto/8 --as-of 2026-11-22T10:00:00Z \\\n"
    "      --report /shared/part-${JOB_COMPLETION_INDEX}.json\n"
    "      (Kubernetes Indexed Job; then: ttl-auditor merge /shared/part-*.json --report full.json)\n"
    "\n"
    "--shard i/N audits the i-th of N disjoint slices (0 <= i < N) and writes a mergeable report;\n"
    "--shard auto/N takes i from JOB_COMPLETION_INDEX (set by Kubernetes Indexed Jobs); shards need\n"
    "the same --as-of (and --seed, derived from --as-of when absent).\n"
    "Without --seed a sampled run draws a fresh seed and records it in scan.seed (replay with it).\n"
    "History is recorded only by runs at the current time (--as-of within 60 s of now) or with\n"
    "--record-history.\n"
    "--as-of TIME is epoch seconds or RFC 3339 (2026-11-22T10:00:00Z).\n"
    "SIGINT/SIGTERM stop the run early: finished targets are reported, the rest are partial\n"
    "or failed (exit 3); a second signal exits at once.\n\n") + kExitCodesHelp;

const std::string kCheckConfigFooter = std::string(
    "Examples:\n"
    "  ttl-auditor check-config --config /etc/ttl-auditor/config.yaml\n"
    "  TABLE=UploadSessions ttl-auditor check-config --config config.yaml   # ${TABLE} interpolated\n"
    "\n"
    "  ttl-auditor check-config --config config.yaml --online   # reach every target, scan nothing\n"
    "\n"
    "Every problem is printed on its own line as `path: message`, all at once.\n"
    "--online also resolves credentials and sends each target's cheap calls (DynamoDB\n"
    "DescribeTable + DescribeTimeToLive, S3 ListObjectsV2 max-keys=1, PostgreSQL connect + the\n"
    "audit's SELECT with LIMIT 0 in a read-only transaction, filesystem stat + opendir) and\n"
    "prints `ok` or `error: reason` per target.\n"
    "Timeouts per target: request_timeout (default 30s), connect_timeout (default 3s; PostgreSQL\n"
    "10s), max_duration (none).\n"
    "Exit codes: 0 the config is valid (and with --online every target is ready); 2 it has\n"
    "problems (or cannot be read); 3 with --online, a target is not ready.\n");

const std::string kIamFooter =
    "Examples:\n"
    "  ttl-auditor iam-policy --config /etc/ttl-auditor/config.yaml > ttl-auditor-policy.json\n"
    "  aws iam create-policy --policy-name ttl-auditor --policy-document file://ttl-auditor-policy.json\n"
    "\n"
    "Only read actions (DescribeTable, DescribeTimeToLive, Scan, BatchGetItem for orphan lookups,\n"
    "S3 bucket reads and ListMultipartUploadParts, sts:AssumeRole for targets with role_arn),\n"
    "scoped to the configured tables and buckets, in each region's partition.\n"
    "Regions come from each target, else AWS_REGION/AWS_DEFAULT_REGION, else \"*\".\n"
    "Exit codes: 0 policy printed; 2 config error.\n";

const std::string kServeFooter =
    "Examples:\n"
    "  ttl-auditor serve --config /etc/ttl-auditor/config.yaml --listen 127.0.0.1:9782 --interval 15m\n"
    "  curl -s 127.0.0.1:9782/metrics; curl -s 127.0.0.1:9782/report.json; curl -s 127.0.0.1:9782/healthz\n"
    "\n"
    "Exit codes: 0 stopped by SIGTERM/SIGINT; 2 usage or config error.\n";

const std::string kMergeFooter = std::string(
    "Examples:\n"
    "  ttl-auditor merge /shared/part-*.json --report /shared/full.json\n"
    "  ttl-auditor merge part-0.json part-1.json --report full.json --config config.yaml \\\n"
    "      --textfile /var/lib/node_exporter/textfile/ttl_auditor.prom\n"
    "\n"
    "Parts are reports written by `run --shard i/N`. With --config, anomalies are re-evaluated\n"
    "with the configured thresholds and the history in state_dir is updated; without it the\n"
    "merged anomalies are kept as combined from the parts.\n\n") + kExitCodesHelp;

const std::string kMainFooter = std::string(
    "Examples:\n"
    "  ttl-auditor check-config --config /etc/ttl-auditor/config.yaml\n"
    "  ttl-auditor run --config /etc/ttl-auditor/config.yaml --textfile "
    "/var/lib/node_exporter/textfile/ttl_auditor.prom\n"
    "  ttl-auditor run --config config.yaml --report report.json --fail-on warning\n"
    "  ttl-auditor iam-policy --config config.yaml\n"
    "  ttl-auditor serve --config config.yaml --listen 127.0.0.1:9782 --interval 15m\n"
    "\n"
    "`ttl-auditor COMMAND --help` shows each command's options and examples.\n\n") +
    kExitCodesHelp;

// Set by SIGINT/SIGTERM; sources poll it between pages.
std::atomic<bool> g_cancel{false};

void on_run_stop_signal(int) { g_cancel.store(true); }

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_run_stop_signal;
  sigemptyset(&sa.sa_mask);
  // The second signal gets the default action: a stuck run can still be killed with ^C ^C.
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void print_config_errors(const std::string& path, const std::vector<ConfigError>& errors) {
  for (const auto& e : errors) std::cerr << e.str() << '\n';
  std::cerr << path << ": " << errors.size() << (errors.size() == 1 ? " problem" : " problems")
            << '\n';
}

std::optional<Config> load_or_report(const std::string& path) {
  ConfigResult r = load_config(path);
  if (!r.config) {
    print_config_errors(path, r.errors);
    return std::nullopt;
  }
  return std::move(r.config);
}

struct LogOptions {
  std::string format = "text";
  std::string level = "info";
};

void add_log_options(CLI::App* cmd, LogOptions& o) {
  cmd->add_option("--log-format", o.format, "Log lines on stderr: text (logfmt) or json")->type_name("FORMAT")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->add_option("--log-level", o.level, "trace, debug, info, warn, error, critical or off")->type_name("LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "warning", "error", "critical", "off"}))
      ->capture_default_str();
}

void apply_log_options(const LogOptions& o, const std::string& run_id) {
  setup_logging(parse_log_format(o.format).value_or(LogFormat::kText),
                parse_log_level(o.level).value_or(spdlog::level::info), run_id);
}

struct RunArgs {
  std::string config;
  std::string as_of;
  std::string report;
  std::string report_dir;
  std::string textfile;
  std::string pushgateway;
  std::optional<uint64_t> seed;
  bool record_history = false;
  std::vector<std::string> targets;
  std::string fail_on = "critical";
  std::string shard;
  std::string envelope;
  std::string state_dir;
  int threads = 0;
  bool no_progress = false;
  bool plan = false;
  LogOptions log;
};

int cmd_run(const RunArgs& a) {
  std::optional<Config> config = load_or_report(a.config);
  if (!config) return kExitUsage;
  if (a.plan) {
    apply_log_options(a.log, new_run_id());
    return print_plan(plan_run(*config, a.targets), std::cout);
  }

  RunOptions o;
  if (!a.as_of.empty()) {
    o.as_of = parse_time(a.as_of);
    if (!o.as_of) {
      std::cerr << "--as-of: expected epoch seconds or RFC 3339 (2026-11-22T10:00:00Z), got \""
                << a.as_of << "\"\n";
      return kExitUsage;
    }
  }
  if (!a.shard.empty()) {
    std::string why;
    o.shard = parse_shard(a.shard, std::getenv("JOB_COMPLETION_INDEX"), why);
    if (!o.shard) {
      std::cerr << "--shard: " << why << '\n';
      return kExitUsage;
    }
    if (!o.as_of) {
      std::cerr << "--shard needs --as-of: every shard must audit the same instant for `merge` to "
                   "combine them (e.g. --as-of 2026-11-22T10:00:00Z, the same for all shards)\n";
      return kExitUsage;
    }
  }
  if (auto missing = unknown_targets(*config, a.targets); !missing.empty()) {
    std::string known;
    for (const auto& t : config->targets) known += (known.empty() ? "" : ", ") + t.name;
    for (const auto& m : missing) {
      std::cerr << "--target " << m << ": no such target in " << a.config << " (targets: " << known
                << ")\n";
    }
    return kExitUsage;
  }

  o.seed = a.seed;
  if (!o.seed && o.shard) {
    // Shards without --seed share one derived from --as-of, so they draw the same sample plan.
    uint64_t z = static_cast<uint64_t>(*o.as_of) + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    o.seed = z ^ (z >> 31);
  }
  o.record_history = a.record_history;
  o.targets = a.targets;
  o.fail_on = a.fail_on;
  o.state_dir = a.state_dir;
  o.threads = a.threads;
  o.run_id = new_run_id();
  o.cancel = &g_cancel;
  o.sinks.report_file = a.report;
  o.sinks.report_dir = a.report_dir;
  o.sinks.textfile = a.textfile;
  o.sinks.pushgateway_url = a.pushgateway;
  o.sinks.envelope = a.envelope;

  apply_log_options(a.log, o.run_id);
  ProgressLine progress(progress_wanted(a.no_progress));
  o.progress = progress.callback();
  o.target_done = [&progress] { progress.finish(); };
  install_signal_handlers();

  RunOutcome outcome = run_pipeline(*config, o);
  progress.finish();
  spdlog::default_logger()->flush();
  return outcome.exit_code;
}

int cmd_check_config(const std::string& path, bool online) {
  ConfigResult r = load_config(path);
  if (!r.config) {
    print_config_errors(path, r.errors);
    return kExitUsage;
  }
  const Config& c = *r.config;
  if (online) {
    apply_log_options(LogOptions{}, new_run_id());  // log lines on stderr, the table on stdout
    return print_readiness(check_online(c), std::cout);
  }
  std::cout << path << ": ok, " << c.targets.size()
            << (c.targets.size() == 1 ? " target" : " targets") << '\n';
  for (const auto& t : c.targets) {
    std::cout << "  " << t.name << " (" << t.kind << ")";
    if (!make_source(t.kind)) std::cout << "  note: kind " << t.kind << " not available in this build";
    std::cout << '\n';
  }
  return kExitClean;
}

int cmd_iam_policy(const std::string& path) {
  std::optional<Config> config = load_or_report(path);
  if (!config) return kExitUsage;
  std::cout << iam_policy(*config).dump(2) << '\n';
  for (const auto& note : iam_policy_notes(*config)) std::cerr << "note: " << note << '\n';
  return kExitClean;
}

struct MergeArgs {
  std::vector<std::string> parts;
  std::string report;
  std::string report_dir;
  std::string textfile;
  std::string pushgateway;
  std::string config;
  std::string fail_on = "critical";
  bool record_history = false;
  LogOptions log;
};

int cmd_merge(const MergeArgs& a) {
  std::optional<Config> config;
  if (!a.config.empty()) {
    config = load_or_report(a.config);
    if (!config) return kExitUsage;
  }
  std::vector<Report> parts;
  for (const auto& path : a.parts) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::cerr << path << ": cannot read: " << std::strerror(errno) << '\n';
      return kExitUsage;
    }
    try {
      parts.push_back(report_from_json(nlohmann::json::parse(in)));
    } catch (const std::exception& e) {
      std::cerr << path << ": not a shard report: " << e.what() << '\n';
      return kExitUsage;
    }
  }
  Report merged;
  try {
    merged = merge_reports(parts, a.parts, sampling::apply_sample_estimates);
  } catch (const std::exception& e) {
    std::cerr << "merge: " << e.what() << '\n';
    return kExitUsage;
  }
  apply_log_options(a.log, merged.run.id);
  if (config) {
    HistoryStore history(config->state_dir);
    for (auto& t : merged.targets) {
      const TargetConfig* tc = nullptr;
      for (const auto& c : config->targets) {
        if (c.name == t.name) tc = &c;
      }
      const Thresholds& th = tc != nullptr ? tc->thresholds : config->thresholds;
      std::vector<HistoryPoint> past;
      try {
        past = history.load(t.name);
      } catch (const std::exception& e) {
        spdlog::warn("history unreadable {}", Fields().add("target", t.name).add("error", e.what()).str());
      }
      t.anomalies.clear();
      evaluate_anomalies(t, th, past, merged.run.finished_at);
      if (history.enabled() && may_record_state(merged.run.as_of, merged.run.started_at, a.record_history)) {
        const HistoryPoint p = history_point(t, merged.run.finished_at);
        try {
          history.append(t.name, p, th.history_runs);
        } catch (const std::exception& e) {
          spdlog::warn("history not recorded {}", Fields().add("target", t.name).add("error", e.what()).str());
        }
      }
    }
  }
  SinkOptions sinks;
  sinks.report_file = a.report;
  sinks.report_dir = a.report_dir;
  sinks.textfile = a.textfile;
  sinks.pushgateway_url = a.pushgateway;
  std::vector<std::string> errors;
  try {
    errors = publish(merged, sinks);
  } catch (const std::exception& e) {
    errors.push_back(e.what());
  }
  for (const auto& e : errors) spdlog::error("sink failed {}", Fields().add("error", e).str());
  spdlog::info("merge finished {}", Fields()
                                        .add("parts", static_cast<uint64_t>(parts.size()))
                                        .add("targets", static_cast<uint64_t>(merged.targets.size()))
                                        .add("status", std::string(to_string(merged.run.status)))
                                        .str());
  return run_exit_code(merged, a.fail_on, !errors.empty());
}

struct ServeArgs {
  std::string config;
  std::string listen;
  std::string interval;
  std::string report;
  std::string report_dir;
  std::string textfile;
  std::string state_dir;
  LogOptions log;
};

int cmd_serve(const ServeArgs& a) {
  std::optional<Config> config = load_or_report(a.config);
  if (!config) return kExitUsage;
  const std::optional<int64_t> interval = parse_duration(a.interval);
  if (!interval || *interval <= 0) {
    std::cerr << "--interval: expected a duration like 15m, got \"" << a.interval << "\"\n";
    return kExitUsage;
  }
#if TTLA_HAVE_SERVE
  apply_log_options(a.log, new_run_id());  // replaced by each cycle's run id
  ServeOptions o;
  o.listen = a.listen;
  o.interval_seconds = static_cast<double>(*interval);
  o.sinks.report_file = a.report;
  o.sinks.report_dir = a.report_dir;
  o.sinks.textfile = a.textfile;
  const Config& cfg = *config;
  const std::string state_dir = a.state_dir;
  o.audit_once = [&cfg, state_dir]() {
    RunOptions ro;
    ro.run_id = new_run_id();
    ro.state_dir = state_dir;
    set_log_run_id(ro.run_id);  // every line of this cycle carries its run id
    return run_audit(cfg, ro);
  };
  return run_serve(cfg, o);
#else
  std::cerr << "serve: not available in this build\n";
  return kExitUsage;
#endif
}

int cmd_version() {
  std::cout << "ttl-auditor " << TTLA_VERSION << '\n';
  std::string built;
  for (const auto& k : source_kinds()) {
    if (make_source(k)) built += (built.empty() ? "" : " ") + k;
  }
  std::cout << "source kinds: " << (built.empty() ? "(none)" : built) << '\n';
  std::cout << "report schema_version: 1\n";
  return kExitClean;
}

}  // namespace

std::optional<std::pair<int, int>> parse_shard(std::string_view text, const char* job_index_env,
                                               std::string& error) {
  const size_t slash = text.find('/');
  auto parse_int = [](std::string_view s, int& out) {
    if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string_view::npos) {
      return false;
    }
    out = std::stoi(std::string(s));
    return true;
  };
  int i = 0, n = 0;
  if (slash == std::string_view::npos || !parse_int(text.substr(slash + 1), n) || n < 1) {
    error = "expected i/N or auto/N with N >= 1, got \"" + std::string(text) + "\"";
    return std::nullopt;
  }
  const std::string_view index = text.substr(0, slash);
  if (index == "auto") {
    if (job_index_env == nullptr || *job_index_env == '\0') {
      error = "auto/" + std::to_string(n) + " needs JOB_COMPLETION_INDEX (set by Kubernetes Indexed Jobs)";
      return std::nullopt;
    }
    if (!parse_int(job_index_env, i)) {
      error = "JOB_COMPLETION_INDEX is not a non-negative integer: \"" + std::string(job_index_env) + "\"";
      return std::nullopt;
    }
  } else if (!parse_int(index, i)) {
    error = "expected i/N or auto/N with N >= 1, got \"" + std::string(text) + "\"";
    return std::nullopt;
  }
  if (i >= n) {
    error = "shard index " + std::to_string(i) + " is out of range for " + std::to_string(n) +
            " shards (0.." + std::to_string(n - 1) + ")";
    return std::nullopt;
  }
  return std::make_pair(i, n);
}

int run_cli(int argc, char** argv) {
  CLI::App app{"ttl-auditor " TTLA_VERSION
               ": read-only auditor of expired-but-undeleted data (DynamoDB TTL, S3 lifecycle,\n"
               "PostgreSQL retention, filesystem age), publishing JSON reports and Prometheus metrics.",
               "ttl-auditor"};
  app.require_subcommand(1);
  app.footer(kMainFooter);
  app.set_version_flag("--version", std::string("ttl-auditor ") + TTLA_VERSION);

  RunArgs run_args;
  CLI::App* run = app.add_subcommand("run", "Audit the configured targets once and publish the results");
  run->add_option("--config", run_args.config, "Config file (YAML)")->type_name("FILE")->envname("TTL_AUDITOR_CONFIG")->required();
  run->add_option("--as-of", run_args.as_of, "Audit as if the clock read TIME (epoch seconds or RFC 3339)")->type_name("TIME");
  run->add_option("--report", run_args.report, "Write the JSON report to FILE")->type_name("FILE");
  run->add_option("--report-dir", run_args.report_dir,
                  "Write a timestamped report and latest.json into DIR (atomically)")->type_name("DIR");
  run->add_option("--textfile", run_args.textfile,
                  "Write Prometheus metrics for the node_exporter textfile collector")->type_name("FILE");
  run->add_option("--pushgateway", run_args.pushgateway, "Push metrics to a Pushgateway URL")->type_name("URL");
  run->add_option("--seed", run_args.seed,
                  "Seed for sampling and reservoirs (default: a fresh one, recorded in scan.seed)")->type_name("N");
  run->add_flag("--record-history", run_args.record_history,
                "Record history even when --as-of is not the current time (backfills, tests)");
  run->add_option("--target", run_args.targets, "Audit only this target (repeatable)")->type_name("NAME");
  run->add_option("--fail-on", run_args.fail_on, "Exit 1 when anomalies reach this severity")->type_name("LEVEL")
      ->check(CLI::IsMember({"never", "warning", "critical"}))
      ->capture_default_str();
  run->add_option("--shard", run_args.shard,
                  "Audit slice i of N (i/N, or auto/N from JOB_COMPLETION_INDEX); mergeable report")->type_name("i/N");
  run->add_option("--envelope", run_args.envelope, "Wrap the report for a runtime (lambda)")->type_name("KIND")
      ->check(CLI::IsMember({"lambda"}));
  run->add_option("--state-dir", run_args.state_dir,
                  "History of past runs for backlog_growth (overrides state_dir in the config)")->type_name("DIR");
  run->add_option("--threads", run_args.threads, "Worker threads per target (0 = auto)")->type_name("N")
      ->check(CLI::Range(0, 1024));
  run->add_flag("--no-progress", run_args.no_progress, "Never draw the progress line on stderr");
  run->add_flag("--plan", run_args.plan,
                "Print what each target would read and cost (items, bytes, read units, time), then exit without scanning");
  add_log_options(run, run_args.log);
  run->footer(kRunFooter);

  std::string check_path;
  bool check_online_flag = false;
  CLI::App* check = app.add_subcommand("check-config", "Validate a config file and list every problem");
  check->add_option("--config", check_path, "Config file (YAML)")->type_name("FILE")->envname("TTL_AUDITOR_CONFIG")->required();
  check->add_flag("--online", check_online_flag,
                  "Also reach every target (credentials, Describe/List/SELECT/opendir) without scanning");
  check->footer(kCheckConfigFooter);

  std::string iam_path;
  CLI::App* iam = app.add_subcommand("iam-policy", "Print a least-privilege IAM policy for a config");
  iam->add_option("--config", iam_path, "Config file (YAML)")->type_name("FILE")->envname("TTL_AUDITOR_CONFIG")->required();
  iam->footer(kIamFooter);

  ServeArgs serve_args;
  CLI::App* serve = app.add_subcommand(
      "serve", "Run as an exporter: audit every --interval, serve /metrics /healthz /report.json");
  serve->add_option("--config", serve_args.config, "Config file (YAML)")->type_name("FILE")->envname("TTL_AUDITOR_CONFIG")->required();
  serve->add_option("--listen", serve_args.listen, "ADDR to listen on, e.g. 127.0.0.1:9782")->type_name("ADDR")->required();
  serve->add_option("--interval", serve_args.interval, "Time between audits, e.g. 15m")->type_name("DURATION")->required();
  serve->add_option("--report", serve_args.report, "Also write each cycle's JSON report to FILE")->type_name("FILE");
  serve->add_option("--report-dir", serve_args.report_dir, "Also write each report into DIR")->type_name("DIR");
  serve->add_option("--textfile", serve_args.textfile, "Also write the metrics to a textfile")->type_name("FILE");
  serve->add_option("--state-dir", serve_args.state_dir,
                    "History of past runs (overrides state_dir in the config)")->type_name("DIR");
  add_log_options(serve, serve_args.log);
  serve->footer(kServeFooter);

  MergeArgs merge_args;
  CLI::App* merge = app.add_subcommand("merge", "Combine shard reports (run --shard) into one report");
  merge->add_option("parts", merge_args.parts, "Shard reports (PART.json...)")->type_name("PART.json")->required();
  merge->add_option("--report", merge_args.report, "Write the merged JSON report to FILE")->type_name("FILE")->required();
  merge->add_option("--report-dir", merge_args.report_dir, "Also write into DIR (timestamped + latest.json)")->type_name("DIR");
  merge->add_option("--textfile", merge_args.textfile, "Write Prometheus metrics for the merged report")->type_name("FILE");
  merge->add_option("--pushgateway", merge_args.pushgateway, "Push metrics of the merged report")->type_name("URL");
  merge->add_option("--config", merge_args.config,
                    "Re-evaluate anomalies with this config's thresholds and record history")->type_name("FILE");
  merge->add_flag("--record-history", merge_args.record_history,
                  "With --config: record history even when the parts' as_of is not the current time");
  merge->add_option("--fail-on", merge_args.fail_on, "Exit 1 when anomalies reach this severity")->type_name("LEVEL")
      ->check(CLI::IsMember({"never", "warning", "critical"}))
      ->capture_default_str();
  add_log_options(merge, merge_args.log);
  merge->footer(kMergeFooter);

  CLI::App* version = app.add_subcommand("version", "Print the version and the source kinds built in");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0; every real parse error is a usage error.
    const int rc = app.exit(e);
    return rc == 0 ? kExitClean : kExitUsage;
  }

  try {
    if (run->parsed()) return cmd_run(run_args);
    if (check->parsed()) return cmd_check_config(check_path, check_online_flag);
    if (iam->parsed()) return cmd_iam_policy(iam_path);
    if (serve->parsed()) return cmd_serve(serve_args);
    if (merge->parsed()) return cmd_merge(merge_args);
    if (version->parsed()) return cmd_version();
  } catch (const Error& e) {
    std::cerr << "ttl-auditor: " << to_string(e.kind()) << ": " << e.what() << '\n';
    return e.kind() == ErrorKind::kConfig ? kExitUsage : kExitIncomplete;
  } catch (const std::exception& e) {
    std::cerr << "ttl-auditor: internal error: " << e.what() << '\n';
    return kExitIncomplete;
  }
  return kExitUsage;
}

}  // namespace ttla
