#include "sinks/exporter.h"

#include <CivetServer.h>
#include <civetweb.h>
#include <prometheus/exposer.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <map>
#include <stdexcept>
#include <type_traits>

#include "core/error.h"
#include "sinks/metrics.h"

namespace ttla {
namespace {

// prometheus-cpp's Exposer owns its civetweb server and only routes registered collectables, so
// /healthz and /report.json are answered from civetweb's begin_request callback, which runs
// before any URI handler.
// begin_request gets only the connection; the listening port tells which exporter it belongs to.
std::mutex& routes_mutex() {
  static std::mutex mu;
  return mu;
}
std::map<int, const MetricsExporter*>& routes() {
  static std::map<int, const MetricsExporter*> r;
  return r;
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 405: return "Method Not Allowed";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

int begin_request(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  if (info == nullptr || info->local_uri == nullptr) return 0;
  std::string path = info->local_uri;
  if (path != "/healthz" && path != "/report.json") return 0;  // /metrics: the Exposer's

  MetricsExporter::Response response;
  std::string method = info->request_method ? info->request_method : "";
  bool head = method == "HEAD";
  if (method != "GET" && !head) {
    response.status = 405;
    response.body = R"({"error":"method not allowed"})";
  } else {
    std::lock_guard<std::mutex> lock(routes_mutex());
    auto it = routes().find(info->server_port);
    if (it == routes().end() || !it->second->handle(path, response)) return 0;
  }
  std::string head_text = "HTTP/1.1 " + std::to_string(response.status) + " " +
                          reason(response.status) +
                          "\r\nContent-Type: application/json\r\n"
                          "Cache-Control: no-store\r\nContent-Length: " +
                          std::to_string(response.body.size()) + "\r\n\r\n";
  mg_write(conn, head_text.data(), head_text.size());
  if (!head) mg_write(conn, response.body.data(), response.body.size());
  return response.status;
}

}  // namespace

MetricsExporter::MetricsExporter(const std::string& listen)
    : metrics_(std::make_shared<SwappableCollectable>()) {
  // CivetCallbacks only adds a constructor (in libcivetweb-cpp) that zeroes mg_callbacks; zero
  // the plain C struct ourselves and pass it as such. CivetServer copies it.
  static_assert(sizeof(CivetCallbacks) == sizeof(mg_callbacks));
  static_assert(std::is_standard_layout_v<mg_callbacks>);
  static mg_callbacks callbacks = [] {
    mg_callbacks c;
    std::memset(&c, 0, sizeof c);
    c.begin_request = &begin_request;
    return c;
  }();
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(
        listen, 2, reinterpret_cast<const CivetCallbacks*>(&callbacks));
  } catch (const std::exception& e) {
    throw Error(ErrorKind::kNetwork, "serve: cannot listen on " + listen + ": " + e.what());
  }
  exposer_->RegisterCollectable(metrics_);
  auto ports = exposer_->GetListeningPorts();
  if (ports.empty()) throw Error(ErrorKind::kNetwork, "serve: no listening port for " + listen);
  port_ = ports.front();
  std::lock_guard<std::mutex> lock(routes_mutex());
  routes()[port_] = this;
}

MetricsExporter::~MetricsExporter() {
  {
    std::lock_guard<std::mutex> lock(routes_mutex());
    auto it = routes().find(port_);
    if (it != routes().end() && it->second == this) routes().erase(it);
  }
  exposer_.reset();  // stops civetweb (joins its threads) before our state goes away
}

void MetricsExporter::set_metrics(std::shared_ptr<prometheus::Collectable> model) {
  metrics_->set(std::move(model));
}

void MetricsExporter::set_report(std::string report_json) {
  std::lock_guard<std::mutex> lock(mu_);
  report_json_ = std::move(report_json);
}

void MetricsExporter::set_health(std::string health_json, bool healthy) {
  std::lock_guard<std::mutex> lock(mu_);
  health_json_ = std::move(health_json);
  healthy_ = healthy;
}

bool MetricsExporter::handle(const std::string& path, Response& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (path == "/healthz") {
    out.status = healthy_ ? 200 : 503;
    out.body = health_json_;
    return true;
  }
  if (path == "/report.json") {
    if (report_json_.empty()) {
      out.status = 503;
      out.body = R"({"error":"no audit finished yet"})";
    } else {
      out.status = 200;
      out.body = report_json_;
    }
    return true;
  }
  return false;
}

}  // namespace ttla
