#pragma once
// The HTTP side of `ttl-auditor serve` (sinks/http_server.h listener):
//   /             a landing page linking the endpoints below
//   /metrics      the metric model (a SwappableCollectable, replaced after each audit)
//   /healthz      JSON status; 200 when healthy, 503 otherwise
//   /report.json  the latest report JSON; 503 until the first audit finished
// With a web configuration file (sinks/web_config.h, --web.config.file) the listener speaks TLS
// and/or asks for HTTP basic authentication; the file is read again for every connection and
// request. Without credentials /healthz still answers its status code with {"status": ...} only
// (for orchestrator probes); the details, and every other path, need a valid user.
#include <memory>
#include <mutex>
#include <string>

#include <prometheus/collectable.h>

#include "sinks/http_server.h"
#include "sinks/web_config.h"

namespace ttla {

class SwappableCollectable;

class MetricsExporter {
 public:
  // `listen` is "host:port" (port 0 picks a free port). Throws ttla::Error: kNetwork when the
  // address cannot be bound, kConfig when the web configuration file is unusable (read, parsed
  // and, with TLS, its certificate and key loaded once at start).
  explicit MetricsExporter(const std::string& listen, const std::string& web_config_file = "");
  ~MetricsExporter();
  MetricsExporter(const MetricsExporter&) = delete;
  MetricsExporter& operator=(const MetricsExporter&) = delete;

  int port() const { return port_; }
  bool tls() const { return tls_; }

  void set_metrics(std::shared_ptr<prometheus::Collectable> model);
  void set_report(std::string report_json);
  void set_health(std::string health_json, bool healthy);

  // Answers one request (what the listener calls; public for tests).
  HttpResponse handle(const HttpRequest& request);

 private:
  HttpResponse route(const HttpRequest& request, bool authenticated);

  std::shared_ptr<SwappableCollectable> metrics_;
  std::string web_config_file_;
  BasicAuth auth_;
  bool tls_ = false;
  int port_ = 0;
  mutable std::mutex mu_;
  std::string report_json_;
  std::string health_json_ = R"({"status":"starting"})";
  std::string health_status_ = "starting";
  bool healthy_ = false;
  std::unique_ptr<HttpServer> server_;  // last: stops (joins its threads) before the state goes
};

}  // namespace ttla
