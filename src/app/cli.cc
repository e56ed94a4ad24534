#include "app/cli.h"

#include <CLI/CLI.hpp>
#include "core/log.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/completion.h"
#include "app/iam_policy.h"
#include "app/logging.h"
#include "app/post_audit.h"
#include "app/preflight.h"
#include "app/progress.h"
#include "app/run.h"
#include "app/run_summary.h"
#include "app/version_info.h"
#include "checks/anomalies.h"
#include "config/config.h"
#include "core/error.h"
#include "core/report.h"
#include "core/suggest.h"
#include "core/time.h"
#include "sinks/sinks.h"
#include "sources/kinds.h"
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
    "S3 bucket reads and ListMultipartUploadParts, sqs:GetQueueAttributes (and GetQueueUrl for\n"
    "queues given by name), cloudwatch:GetMetricData, sts:AssumeRole for targets with role_arn),\n"
    "scoped to the configured tables, buckets and queues, in each region's partition.\n"
    "Regions come from each target, else AWS_REGION/AWS_DEFAULT_REGION, else \"*\".\n"
    "Exit codes: 0 policy printed; 2 config error.\n";

const std::string kServeFooter =
    "Examples:\n"
    "  ttl-auditor serve --config /etc/ttl-auditor/config.yaml --listen 127.0.0.1:9877 --interval 15m\n"
    "  curl -s 127.0.0.1:9877/metrics; curl -s 127.0.0.1:9877/report.json; curl -s 127.0.0.1:9877/healthz\n"
    "  ttl-auditor serve --config config.yaml --listen 0.0.0.0:9877 --interval 15m \\\n"
    "      --web.config.file /etc/ttl-auditor/web-config.yml   # TLS and basic auth\n"
    "\n"
    "Item keys in /report.json (and the report files serve writes) are redacted unless\n"
    "--serve-report-keys. SIGTERM/SIGINT cancel the running audit; the last complete audit stays\n"
    "served until the listener closes.\n\n"
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
    "  ttl-auditor serve --config config.yaml --listen 127.0.0.1:9877 --interval 15m\n"
    "\n"
    "`ttl-auditor COMMAND --help` shows each command's options and examples.\n\n") +
    kExitCodesHelp;

// "Source kinds:" and each kind's help line, from the kind table.
std::string kinds_help() {
  std::string out = "Source kinds (the `kind:` of a target):\n";
  for (const Kind* k : kinds()) {
    out += "  " + k->name + std::string(k->name.size() < 12 ? 12 - k->name.size() : 1, ' ') +
           k->help + "\n";
  }
  return out + "\n";
}

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

struct LogOptions {
  std::string format = "text";
  std::string level = "info";
  bool json() const { return format == "json"; }
};

void print_config_errors(const std::string& path, const std::vector<ConfigError>& errors,
                         const LogOptions* log = nullptr) {
  if (log != nullptr && log->json()) {
    // Under --log-format json every line on stderr is a JSON object, config errors included.
    for (const auto& e : errors) {
      log::error("config error", Fields()
              .add("file", path)
              .add("path", e.path)
              .add("error", e.message));
    }
    log::error("config invalid", Fields()
            .add("file", path)
            .add("problems", static_cast<uint64_t>(errors.size())));
    log::flush();
    return;
  }
  for (const auto& e : errors) std::cerr << e.str() << '\n';
  std::cerr << path << ": " << errors.size() << (errors.size() == 1 ? " problem" : " problems")
            << '\n';
}

std::optional<Config> load_or_report(const std::string& path, const LogOptions* log = nullptr) {
  ConfigResult r = load_config(path);
  if (!r.config) {
    print_config_errors(path, r.errors, log);
    return std::nullopt;
  }
  return std::move(r.config);
}

// A usage error: plain text, or one JSON line under --log-format json. Returns kExitUsage.
int usage_error(const LogOptions& log, const std::string& message) {
  if (log.json()) {
    log::error("usage error", Fields().add("error", message));
    log::flush();
  } else {
    std::cerr << message << '\n';
  }
  return kExitUsage;
}

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

// The sink options of run, merge and serve, declared once. `subject` names what is written
// ("the JSON report", "the merged report"...).
struct SinkArgs {
  std::string report;
  std::string report_dir;
  std::string textfile;
  std::string pushgateway;
  int keep = 0;
  int keep_days = 0;

  SinkOptions options() const {
    SinkOptions o;
    o.report_file = report;
    o.report_dir = report_dir;
    o.textfile = textfile;
    o.pushgateway_url = pushgateway;
    o.keep = keep;
    o.keep_days = keep_days;
    return o;
  }
};

struct SinkFlags {
  std::string subject;           // "the JSON report"
  bool report_required = false;  // merge: --report FILE is the point of the command
  bool pushgateway = true;       // serve publishes /metrics itself
  bool retention = true;         // --keep / --keep-days
};

void add_sink_options(CLI::App* cmd, SinkArgs& a, const SinkFlags& f) {
  CLI::Option* report = cmd->add_option("--report", a.report, "Write " + f.subject + " (JSON) to FILE")
                            ->type_name("FILE");
  if (f.report_required) report->required();
  cmd->add_option("--report-dir", a.report_dir,
                  "Write " + f.subject + " into DIR too: timestamped file + latest.json (atomically)")
      ->type_name("DIR");
  cmd->add_option("--textfile", a.textfile,
                  "Write Prometheus metrics for the node_exporter textfile collector")->type_name("FILE");
  if (f.pushgateway) {
    cmd->add_option("--pushgateway", a.pushgateway, "Push metrics to a Pushgateway URL")->type_name("URL");
  }
  if (f.retention) {
    cmd->add_option("--keep", a.keep, "With --report-dir: keep only the newest N timestamped reports")
        ->type_name("N")->check(CLI::Range(1, 1000000));
    cmd->add_option("--keep-days", a.keep_days,
                    "With --report-dir: delete timestamped reports older than D days")
        ->type_name("D")->check(CLI::Range(1, 100000));
  }
}

// Every output is checked before the audit: a typo in --report must not cost a full scan.
bool outputs_usable(const LogOptions& log, const SinkOptions& sinks) {
  if ((sinks.keep > 0 || sinks.keep_days > 0) && sinks.report_dir.empty()) {
    usage_error(log, "--keep and --keep-days prune --report-dir: give --report-dir DIR");
    return false;
  }
  const auto problems = check_outputs(sinks);
  for (const auto& p : problems) usage_error(log, p);
  return problems.empty();
}

struct RunArgs {
  std::string config;
  std::string as_of;
  SinkArgs sinks;
  std::string html;
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
  // Logging first: under --log-format json even config and usage errors are JSON lines.
  RunOptions o;
  o.run_id = new_run_id();
  apply_log_options(a.log, o.run_id);
  std::optional<Config> config = load_or_report(a.config, &a.log);
  if (!config) return kExitUsage;
  if (a.plan) {
    apply_log_options(a.log, new_run_id());
    return print_plan(plan_run(*config, a.targets), std::cout);
  }

  if (!a.as_of.empty()) {
    o.as_of = parse_time(a.as_of);
    if (!o.as_of) {
      return usage_error(a.log, "--as-of: expected epoch seconds or RFC 3339 (2026-11-22T10:00:00Z), got \"" +
                                    a.as_of + "\"");
    }
  }
  if (!a.shard.empty()) {
    std::string why;
    o.shard = parse_shard(a.shard, std::getenv("JOB_COMPLETION_INDEX"), why);
    if (!o.shard) return usage_error(a.log, "--shard: " + why);
    if (!o.as_of) {
      return usage_error(a.log,
                         "--shard needs --as-of: every shard must audit the same instant for `merge` to "
                         "combine them (e.g. --as-of 2026-11-22T10:00:00Z, the same for all shards)");
    }
  }
  if (auto missing = unknown_targets(*config, a.targets); !missing.empty()) {
    std::string known;
    for (const auto& t : config->targets) known += (known.empty() ? "" : ", ") + t.name;
    for (const auto& m : missing) {
      usage_error(a.log, "--target " + m + ": no such target in " + a.config + " (targets: " + known + ")");
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
  o.cancel = &g_cancel;
  o.sinks = a.sinks.options();
  o.sinks.envelope = a.envelope;
  o.html_file = a.html;
  if (!outputs_usable(a.log, o.sinks)) return kExitUsage;
  if (!has_outputs(o.sinks)) {
    log::warn("no output configured: results are only in this log",
              Fields().add("hint", "add --report FILE (- for stdout), --report-dir DIR, --textfile FILE or --pushgateway URL"));
  }

  const bool terminal = isatty(STDERR_FILENO) != 0;
  ProgressLine progress(progress_wanted(a.no_progress));
  o.progress = progress.callback();
  o.target_done = [&progress] { progress.finish(); };
  install_signal_handlers();

  RunOutcome outcome = run_pipeline(*config, o);
  progress.finish();
  log::flush();
  if (terminal) {
    std::cerr << '\n' << summary_table(outcome.report, outcome.written, outcome.exit_code);
    std::cerr.flush();
  }
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
  SinkArgs sinks;
  std::string config;
  std::string fail_on = "critical";
  bool record_history = false;
  LogOptions log;
};

int cmd_merge(const MergeArgs& a) {
  apply_log_options(a.log, "");  // the merged run's id once known
  std::optional<Config> config;
  if (!a.config.empty()) {
    config = load_or_report(a.config, &a.log);
    if (!config) return kExitUsage;
  }
  PublishOptions publishing;
  publishing.sinks = a.sinks.options();
  if (!outputs_usable(a.log, publishing.sinks)) return kExitUsage;
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
    // The same step as `run`: the history lock is taken for every append.
    PostAudit post(config->state_dir,
                   may_record_state(merged.run.as_of, merged.run.started_at, a.record_history));
    for (auto& t : merged.targets) {
      const TargetConfig* tc = nullptr;
      for (const auto& c : config->targets) {
        if (c.name == t.name) tc = &c;
      }
      post.finish_target(t, tc != nullptr ? tc->thresholds : config->thresholds, merged.run.finished_at);
    }
  } else {
    for (const auto& t : merged.targets) PostAudit::log_target(t);
  }
  publishing.state_dir = config ? config->state_dir : "";
  const Published published = publish_report(merged, publishing);
  log::info("merge finished", Fields()
                                 .add("parts", static_cast<uint64_t>(parts.size()))
                                 .add("targets", static_cast<uint64_t>(merged.targets.size()))
                                 .add("status", std::string(to_string(merged.run.status))));
  return run_exit_code(merged, a.fail_on, !published.errors.empty());
}

struct ServeArgs {
  std::string config;
  std::string listen;
  std::string interval;
  SinkArgs sinks;
  std::string state_dir;
  std::string web_config_file;
  bool report_keys = false;
  LogOptions log;
};

int cmd_serve(const ServeArgs& a) {
  apply_log_options(a.log, new_run_id());  // replaced by each cycle's run id
  std::optional<Config> config = load_or_report(a.config, &a.log);
  if (!config) return kExitUsage;
  const std::optional<int64_t> interval = parse_duration(a.interval);
  if (!interval || *interval <= 0) {
    std::cerr << "--interval: expected a duration like 15m, got \"" << a.interval << "\"\n";
    return kExitUsage;
  }
#if TTLA_HAVE_SERVE
  ServeOptions o;
  o.listen = a.listen;
  o.web_config_file = a.web_config_file;
  o.interval_seconds = static_cast<double>(*interval);
  o.sinks = a.sinks.options();
  if (!outputs_usable(a.log, o.sinks)) return kExitUsage;
  const Config cfg = serve_audit_config(*config, a.report_keys);
  const std::string state_dir = a.state_dir;
  o.audit_once = [&cfg, state_dir](const std::atomic<bool>& cancel) {
    RunOptions ro;
    ro.run_id = new_run_id();
    ro.state_dir = state_dir;
    ro.cancel = &cancel;
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
  std::cout << version_text(version_info());
  std::string built;
  for (const auto& k : source_kinds()) {
    if (make_source(k)) built += (built.empty() ? "" : " ") + k;
  }
  std::cout << "source kinds: " << (built.empty() ? "(none)" : built) << '\n';
  std::cout << "report schema_version: 1\n";
  return kExitClean;
}

// "runn" -> "did you mean run?" before CLI11 answers "A subcommand is required".
bool unknown_subcommand(CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-' || argv[1][0] == '\0') return false;
  const std::string word = argv[1];
  std::vector<std::string> names;
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == word) return false;
    names.push_back(sub->get_name());
  }
  std::cerr << "ttl-auditor: unknown command \"" << word << "\"";
  if (auto best = closest_match(word, names)) std::cerr << " (did you mean " << *best << "?)";
  std::cerr << "\nCommands: ";
  for (size_t i = 0; i < names.size(); ++i) std::cerr << (i ? ", " : "") << names[i];
  std::cerr << "\nRun ttl-auditor --help for more information.\n";
  return true;
}

// After a parse error: "--reprot" -> "did you mean --report?" for each unknown --flag.
void suggest_flags(CLI::App& app, int argc, char** argv) {
  CLI::App* cmd = &app;
  if (argc >= 2) {
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      if (sub->get_name() == argv[1]) cmd = sub;
    }
  }
  std::vector<std::string> flags = {"--help"};
  for (const CLI::Option* opt : cmd->get_options()) {
    for (const auto& l : opt->get_lnames()) flags.push_back("--" + l);
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0 || arg.size() <= 2) continue;
    arg = arg.substr(0, arg.find('='));
    if (std::find(flags.begin(), flags.end(), arg) != flags.end()) continue;
    if (auto best = closest_match(arg, flags)) {
      std::cerr << "ttl-auditor: unknown option " << arg << " (did you mean " << *best << "?)\n";
    }
  }
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

namespace {

// The subcommands, their parsed arguments and which one was given.
struct Commands {
  CLI::App* run = nullptr;
  RunArgs run_args;
  CLI::App* check = nullptr;
  std::string check_path;
  bool check_online = false;
  CLI::App* iam = nullptr;
  std::string iam_path;
  CLI::App* serve = nullptr;
  ServeArgs serve_args;
  CLI::App* merge = nullptr;
  MergeArgs merge_args;
  CLI::App* version = nullptr;
  CLI::App* completion = nullptr;
  std::string shell;
};

// `run`: one audit of the configured targets, published to the sinks.
void add_run_command(CLI::App& app, Commands& c) {
  c.run = app.add_subcommand("run", "Audit the configured targets once and publish the results");
  c.run->add_option("--config", c.run_args.config, "Config file (YAML)")->type_name("FILE")->envname("TTL_AUDITOR_CONFIG")->required();
  c.run->add_option("--as-of", c.run_args.as_of, "Audit as if the clock read TIME (epoch seconds or RFC 3339)")->type_name("TIME");
  add_sink_options(c.run, c.run_args.sinks, {"the JSON report"});
  c.run->add_option("--html", c.run_args.html,
                  "Write the report as one self-contained HTML page to FILE")->type_name("FILE");
  c.run->add_option("--seed", c.run_args.seed,
                  "Seed for sampling and reservoirs (default: a fresh one, recorded in scan.seed)")->type_name("N");
  c.run->add_flag("--record-history", c.run_args.record_history,
                "Record history even when --as-of is not the current time (backfills, tests)");
  c.run->add_option("--target", c.run_args.targets, "Audit only this target (repeatable)")->type_name("NAME");
  c.run->add_option("--fail-on", c.run_args.fail_on, "Exit 1 when anomalies reach this severity")->type_name("LEVEL")
      ->check(CLI::IsMember({"never", "warning", "critical"}))
      ->capture_default_str();
  c.run->add_option("--shard", c.run_args.shard,
                  "Audit slice i of N (i/N, or auto/N from JOB_COMPLETION_INDEX); mergeable report")->type_name("i/N");
  c.run->add_option("--envelope", c.run_args.envelope, "Wrap the report for a runtime (lambda)")->type_name("KIND")
      ->check(CLI::IsMember({"lambda"}));
  c.run->add_option("--state-dir", c.run_args.state_dir,
                  "History of past runs for backlog_growth (overrides state_dir in the config)")->type_name("DIR");
  c.run->add_option("--threads", c.run_args.threads, "Worker threads per target (0 = auto)")->type_name("N")
      ->check(CLI::Range(0, 1024));
  c.run->add_flag("--no-progress", c.run_args.no_progress, "Never draw the progress line on stderr");
  c.run->add_flag("--plan", c.run_args.plan,
                "Print what each target would read and cost (items, bytes, read units, time), then exit without scanning");
  add_log_options(c.run, c.run_args.log);
  c.run->footer(kRunFooter);

}

// `check-config` and `iam-policy`: read the config, touch nothing (or, --online, only look).
void add_config_commands(CLI::App& app, Commands& c) {
  c.check = app.add_subcommand("check-config", "Validate a config file and list every problem");
  c.check->add_option("--config", c.check_path, "Config file (YAML)")->type_name("FILE")->envname("TTL_AUDITOR_CONFIG")->required();
  c.check->add_flag("--online", c.check_online,
                  "Also reach every target (credentials, Describe/List/SELECT/opendir) without scanning");
  c.check->footer(kCheckConfigFooter);


  c.iam = app.add_subcommand("iam-policy", "Print a least-privilege IAM policy for a config");
  c.iam->add_option("--config", c.iam_path, "Config file (YAML)")->type_name("FILE")->envname("TTL_AUDITOR_CONFIG")->required();
  c.iam->footer(kIamFooter);

}

// `serve`: the exporter loop.
void add_serve_command(CLI::App& app, Commands& c) {
  c.serve = app.add_subcommand(
      "serve", "Run as an exporter: audit every --interval, serve /metrics /healthz /report.json");
  c.serve->add_option("--config", c.serve_args.config, "Config file (YAML)")->type_name("FILE")->envname("TTL_AUDITOR_CONFIG")->required();
  c.serve->add_option("--listen", c.serve_args.listen, "ADDR to listen on, e.g. 127.0.0.1:9877")->type_name("ADDR")->required();
  c.serve->add_option("--interval", c.serve_args.interval, "Time between audits, e.g. 15m")->type_name("DURATION")->required();
  add_sink_options(c.serve, c.serve_args.sinks, {"each cycle's JSON report", false, false});
  c.serve->add_option("--state-dir", c.serve_args.state_dir,
                    "History of past runs (overrides state_dir in the config)")->type_name("DIR");
  c.serve->add_option("--web.config.file", c.serve_args.web_config_file,
                    "Web configuration (exporter-toolkit format): TLS and basic auth users")
      ->type_name("FILE");
  c.serve->add_flag("--serve-report-keys", c.serve_args.report_keys,
                  "Publish item keys in /report.json (default: redacted, as with redact_keys)");
  add_log_options(c.serve, c.serve_args.log);
  c.serve->footer(kServeFooter);

}

// `merge`: shard reports into one.
void add_merge_command(CLI::App& app, Commands& c) {
  c.merge = app.add_subcommand("merge", "Combine shard reports (run --shard) into one report");
  c.merge->add_option("parts", c.merge_args.parts, "Shard reports (PART.json...)")->type_name("PART.json")->required();
  add_sink_options(c.merge, c.merge_args.sinks, {"the merged JSON report", true, true, false});
  c.merge->add_option("--config", c.merge_args.config,
                    "Re-evaluate anomalies with this config's thresholds and record history")->type_name("FILE");
  c.merge->add_flag("--record-history", c.merge_args.record_history,
                  "With --config: record history even when the parts' as_of is not the current time");
  c.merge->add_option("--fail-on", c.merge_args.fail_on, "Exit 1 when anomalies reach this severity")->type_name("LEVEL")
      ->check(CLI::IsMember({"never", "warning", "critical"}))
      ->capture_default_str();
  add_log_options(c.merge, c.merge_args.log);
  c.merge->footer(kMergeFooter);

}

// `version` and `completion`.
void add_info_commands(CLI::App& app, Commands& c) {
  c.version = app.add_subcommand(
      "version", "Print the version, commit, build date, linked libraries and source kinds");

  c.completion = app.add_subcommand("completion", "Print a shell completion script");
  c.completion->add_option("shell", c.shell, "bash, zsh or fish")->type_name("SHELL")->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  c.completion->footer(
      "Examples:\n"
      "  source <(ttl-auditor completion bash)      # or save it in /etc/bash_completion.d/ttl-auditor\n"
      "  ttl-auditor completion zsh > \"${fpath[1]}/_ttl_auditor\"\n"
      "  ttl-auditor completion fish > ~/.config/fish/completions/ttl-auditor.fish\n");
}

// Runs the subcommand that was parsed; errors become a message and an exit code.
int dispatch(CLI::App& app, Commands& c) {
  try {
    if (c.run->parsed()) return cmd_run(c.run_args);
    if (c.check->parsed()) return cmd_check_config(c.check_path, c.check_online);
    if (c.iam->parsed()) return cmd_iam_policy(c.iam_path);
    if (c.serve->parsed()) return cmd_serve(c.serve_args);
    if (c.merge->parsed()) return cmd_merge(c.merge_args);
    if (c.version->parsed()) return cmd_version();
    if (c.completion->parsed()) {
      std::cout << *completion_script(c.shell, "ttl-auditor", completion_model(app));
      return kExitClean;
    }
  } catch (const Error& e) {
    std::cerr << "ttl-auditor: " << to_string(e.kind()) << ": " << e.what() << '\n';
    return e.kind() == ErrorKind::kConfig ? kExitUsage : kExitIncomplete;
  } catch (const std::exception& e) {
    std::cerr << "ttl-auditor: internal error: " << e.what() << '\n';
    return kExitIncomplete;
  }
  return kExitUsage;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"ttl-auditor " TTLA_VERSION
               ": read-only auditor of expired-but-undeleted data (DynamoDB TTL, S3 lifecycle,\n"
               "PostgreSQL retention, filesystem age), publishing JSON reports and Prometheus metrics.",
               "ttl-auditor"};
  app.require_subcommand(1);
  app.footer(kinds_help() + kMainFooter);
  app.set_version_flag("--version", std::string("ttl-auditor ") + TTLA_VERSION);
  Commands c;
  add_run_command(app, c);
  add_config_commands(app, c);
  add_serve_command(app, c);
  add_merge_command(app, c);
  add_info_commands(app, c);

  if (unknown_subcommand(app, argc, argv)) return kExitUsage;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0; every real parse error is a usage error.
    const int rc = app.exit(e);
    if (rc != 0) suggest_flags(app, argc, argv);
    return rc == 0 ? kExitClean : kExitUsage;
  }
  return dispatch(app, c);
}

}  // namespace ttla
