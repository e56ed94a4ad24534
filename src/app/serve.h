#pragma once
// `ttl-auditor serve`: a long-running exporter. Audits every `interval` (±jitter), one audit at a
// time, and serves the latest results on one listen address:
//   /metrics      the same metric model as the textfile/Pushgateway sinks (sinks/metrics.h)
//   /healthz      200 + JSON status once an audit has finished, 503 before that
//   /report.json  the latest report (CONTRACT "Report" JSON)
// With a web configuration file (--web.config.file, exporter-toolkit format) the listener speaks
// TLS and/or asks for basic authentication (sinks/web_config.h).
// SIGTERM/SIGINT (or request_serve_stop()) cancel the running audit (its sources stop at their
// next page), keep serving the last complete audit until the listener closes, and return 0.
#include <atomic>
#include <functional>
#include <string>

#include "config/config.h"
#include "core/report.h"
#include "sinks/sinks.h"

namespace ttla {

struct ServeOptions {
  std::string listen = "127.0.0.1:9877";  // host:port; port 0 picks a free port
  std::string web_config_file;            // --web.config.file; empty: plain HTTP, no users
  double interval_seconds = 3600;         // time between audit starts
  double jitter = 0.1;                    // +-fraction of the interval, spreads replicas apart
  // Optional sinks published after each audit too (report file, --report-dir, textfile...).
  SinkOptions sinks;
  // Runs one complete audit (sources, history, anomalies) and returns the report. Provided by
  // the CLI so serve does not depend on run.cc. Exceptions are logged and the loop continues.
  // `cancel` turns true on a stop request: pass it to the sources (RunOptions::cancel); the
  // report of a cancelled audit is not published.
  std::function<Report(const std::atomic<bool>& cancel)> audit_once;
  // Called once with the bound port after the listener is up (tests use port 0).
  std::function<void(int port)> on_listening;
  // Install SIGTERM/SIGINT handlers that stop the loop (tests may pass false and use
  // request_serve_stop()).
  bool handle_signals = true;
};

// Blocks until stopped. Returns 0 on a clean stop, 2 when the listen address cannot be bound or
// audit_once is missing.
int run_serve(const Config& config, const ServeOptions& options);

// Asks a running run_serve to stop (thread-safe; what the signal handlers do).
void request_serve_stop();

// The config serve audits with: item keys are redacted (every target's redact_keys on) because
// /report.json is published over the network, unless `report_keys` (--serve-report-keys), in
// which case each target keeps its own redact_keys.
Config serve_audit_config(const Config& config, bool report_keys);

}  // namespace ttla
