#pragma once
// The HTTP side of `ttl-auditor serve`: one civetweb listener (prometheus-cpp Exposer) serving
//   /metrics      the metric model (a SwappableCollectable, replaced after each audit)
//   /healthz      JSON status; 200 when healthy, 503 otherwise
//   /report.json  the latest report JSON; 503 until the first audit finished
#include <memory>
#include <mutex>
#include <string>

#include <prometheus/collectable.h>

namespace prometheus {
class Exposer;
}

namespace ttla {

class SwappableCollectable;

class MetricsExporter {
 public:
  // `listen` is "host:port" (port 0 picks a free port). Throws ttla::Error(kNetwork) when the
  // address cannot be bound.
  explicit MetricsExporter(const std::string& listen);
  ~MetricsExporter();
  MetricsExporter(const MetricsExporter&) = delete;
  MetricsExporter& operator=(const MetricsExporter&) = delete;

  int port() const { return port_; }

  void set_metrics(std::shared_ptr<prometheus::Collectable> model);
  void set_report(std::string report_json);
  void set_health(std::string health_json, bool healthy);

  // Internal: answers /healthz and /report.json; false for paths the Exposer serves.
  struct Response {
    int status = 200;
    std::string body;
  };
  bool handle(const std::string& path, Response& out) const;

 private:
  std::shared_ptr<SwappableCollectable> metrics_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::string report_json_;
  std::string health_json_ = R"({"status":"starting"})";
  bool healthy_ = false;
};

}  // namespace ttla
