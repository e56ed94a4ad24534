#include "app/serve.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cmath>
#include <map>
#include <mutex>
#include <random>

#include <nlohmann/json.hpp>
#include "core/log.h"

#include "app/post_audit.h"
#include "sinks/exporter.h"
#include "sinks/metrics.h"

namespace ttla {
namespace {

// One stop request path for signals and request_serve_stop(). A signal handler may only touch a
// lock-free atomic, so the loop polls it between condition-variable waits.
volatile std::sig_atomic_t g_signal = 0;
// Handed to the running audit; set by the signal handler and request_serve_stop().
std::atomic<bool> g_cancel{false};
static_assert(std::atomic<bool>::is_always_lock_free);
std::mutex g_mu;
std::condition_variable g_cv;
bool g_stop = false;
// How often the loop notices a signal while idle: the shutdown latency, at ~4 wake-ups/s.
constexpr auto kPoll = std::chrono::milliseconds(250);

extern "C" void on_stop_signal(int sig) {
  g_signal = sig;
  g_cancel.store(true);
}

bool stop_requested() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_stop || g_signal != 0;
}

// Sleeps until `until` or a stop request; true when stopped.
bool wait_until(std::chrono::steady_clock::time_point until) {
  std::unique_lock<std::mutex> lock(g_mu);
  while (!g_stop && g_signal == 0) {
    auto now = std::chrono::steady_clock::now();
    if (now >= until) return false;
    g_cv.wait_until(lock, std::min(until, now + kPoll));
  }
  return true;
}

class SignalGuard {
 public:
  explicit SignalGuard(bool install) : installed_(install) {
    if (!installed_) return;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    // A second signal gets the default action: a stuck exporter can still be killed.
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGTERM, &sa, &old_term_);
    sigaction(SIGINT, &sa, &old_int_);
  }
  ~SignalGuard() {
    if (!installed_) return;
    sigaction(SIGTERM, &old_term_, nullptr);
    sigaction(SIGINT, &old_int_, nullptr);
  }

 private:
  bool installed_;
  struct sigaction old_term_ {};
  struct sigaction old_int_ {};
};

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void request_serve_stop() {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_stop = true;
    g_cancel.store(true);
  }
  g_cv.notify_all();
}

namespace {

// Clears a stop left by an earlier serve in this process (tests run several).
void reset_stop_state() {
  std::lock_guard<std::mutex> lock(g_mu);
  g_stop = false;
  g_signal = 0;
  g_cancel.store(false);
}

// The listener, or null after logging why it could not listen.
std::unique_ptr<MetricsExporter> open_exporter(const Config& config, const ServeOptions& options) {
  std::unique_ptr<MetricsExporter> exporter;
  try {
    exporter = std::make_unique<MetricsExporter>(options.listen, options.web_config_file);
  } catch (const std::exception& e) {
    log::error("serve: cannot listen",
               Fields().add("address", options.listen).add("error", e.what()));
    return nullptr;
  }
  log::info("serve: listening", Fields()
                                    .add("address", options.listen)
                                    .add("port", exporter->port())
                                    .add("tls", exporter->tls())
                                    .add("interval", format_log_number(options.interval_seconds) + "s")
                                    .add("targets", config.targets.size()));
  return exporter;
}

// The audit loop: audit, serve the result, publish it, wait for the next slot.
class ServeLoop {
 public:
  ServeLoop(const ServeOptions& options, MetricsExporter& exporter)
      : options_(options),
        exporter_(exporter),
        interval_(options.interval_seconds > 0 ? options.interval_seconds : 3600),
        jitter_(std::clamp(options.jitter, 0.0, 0.9)) {}

  // Until a stop request; returns the number of completed audits.
  uint64_t run() {
    while (!stop_requested()) {
      const auto started = std::chrono::steady_clock::now();
      const double started_wall = wall_now();
      nlohmann::json health;
      bool healthy = false;
      if (!cycle(started_wall, health, healthy)) break;
      if (wait_until(next_slot(started, started_wall, health, healthy))) break;
    }
    return audits_;
  }

 private:
  // One audit; false when a stop arrived during it (nothing more is served).
  bool cycle(double started_wall, nlohmann::json& health, bool& healthy) {
    try {
      Report report = options_.audit_once(g_cancel);
      if (stop_requested()) {
        // Stopped mid-audit: its report is partial. The last complete audit stays served
        // until the listener closes.
        log::info("serve: audit cancelled",
                  Fields().add("run_id", report.run.id).add("seconds", wall_now() - started_wall, 3));
        return false;
      }
      serve_report(report);
      healthy = true;
      if (has_outputs(options_.sinks)) {
        PublishOptions publishing;
        publishing.sinks = options_.sinks;
        publish_report(report, publishing);  // logs each failure
      }
      log::info("serve: audit finished", Fields()
                                             .add("run_id", report.run.id)
                                             .add("status", to_string(report.run.status))
                                             .add("seconds", wall_now() - started_wall, 3));
      health = {{"status", "ok"}};
    } catch (const std::exception& e) {
      if (stop_requested()) return false;
      // The audit itself broke (not a target: targets fail inside the report). Keep serving
      // the previous metrics; /healthz tells the orchestrator.
      ++failures_;
      log::error("serve: audit failed", Fields().add("error", e.what()));
      health = {{"status", "failing"}, {"error", e.what()}};
    }
    return true;
  }

  // /metrics and /report.json from this report; last success times carried across failures.
  void serve_report(const Report& report) {
    ++audits_;
    MetricsOptions mo;
    mo.previous_success = last_success_;
    exporter_.set_metrics(build_metrics(report, mo));
    exporter_.set_report(report_to_json(report).dump());
    for (const auto& t : report.targets) {
      if (target_succeeded(t)) last_success_[t.name] = report.run.finished_at;
    }
    last_run_ = {{"id", report.run.id},
                 {"status", std::string(to_string(report.run.status))},
                 {"finished_at", report.run.finished_at},
                 {"duration_seconds", report.run.finished_at - report.run.started_at}};
  }

  // Next start = this start + interval ± jitter, so replicas drift apart instead of hammering
  // the same tables in lockstep; /healthz says when.
  std::chrono::steady_clock::time_point next_slot(std::chrono::steady_clock::time_point started,
                                                  double started_wall, nlohmann::json& health,
                                                  bool healthy) {
    const double next_in = interval_ * (1.0 + jitter_ * spread_(rng_));
    health["audits"] = audits_;
    health["failed_audits"] = failures_;
    health["last_run"] = last_run_;
    health["next_audit_in_seconds"] = std::max(0.0, started_wall + next_in - wall_now());
    exporter_.set_health(health.dump(), healthy);
    return started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(next_in));
  }

  const ServeOptions& options_;
  MetricsExporter& exporter_;
  const double interval_;
  const double jitter_;
  std::mt19937_64 rng_{std::random_device{}()};
  std::uniform_real_distribution<double> spread_{-1.0, 1.0};
  std::map<std::string, double> last_success_;  // survives failed audits, as in the textfile
  uint64_t audits_ = 0;
  uint64_t failures_ = 0;
  nlohmann::json last_run_ = nullptr;
};

}  // namespace

int run_serve(const Config& config, const ServeOptions& options) {
  if (!options.audit_once) {
    log::error("serve: no audit function");
    return 2;
  }
  reset_stop_state();
  SignalGuard signals(options.handle_signals);
  std::unique_ptr<MetricsExporter> exporter = open_exporter(config, options);
  if (!exporter) return 2;
  if (options.on_listening) options.on_listening(exporter->port());
  const uint64_t audits = ServeLoop(options, *exporter).run();
  const int sig = g_signal;
  log::info("serve: stopping", Fields().add("signal", sig).add("audits", audits));
  return 0;
}

Config serve_audit_config(const Config& config, bool report_keys) {
  Config out = config;
  if (!report_keys) {
    for (auto& t : out.targets) t.redact_keys = true;
  }
  return out;
}

}  // namespace ttla
