#pragma once
// `ttl-auditor serve`: a long-running exporter. Audits every `interval` (±jitter), one audit at a
// time, and serves the latest results on one listen address:
//   /metrics      the same metric model as the textfile/Pushgateway sinks (sinks/metrics.h)
//   /healthz      200 + JSON status once an audit has finished, 503 before that
//   /report.json  the latest report (CONTRACT "Report" JSON)
// SIGTERM/SIGINT (or request_serve_stop()) end the loop after the running audit; returns 0.
#include <functional>
#include <string>

#include "config/config.h"
#include "core/report.h"
#include "sinks/sinks.h"

namespace ttla {

struct ServeOptions {
  std::string listen = "127.0.0.1:9877";  // host:port; port 0 picks a free port
  double interval_seconds = 3600;         // time between audit starts
  double jitter = 0.1;                    // +-fraction of the interval, spreads replicas apart
  // Optional sinks published after each audit too (report file, --report-dir, textfile...).
  SinkOptions sinks;
  // Runs one complete audit (sources, history, anomalies) and returns the report. Provided by
  // the CLI so serve does not depend on run.cc. Exceptions are logged and the loop continues.
  std::function<Report()> audit_once;
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

}  // namespace ttla
