#include "sinks/exporter.h"

#include "core/log.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "sinks/metrics.h"

namespace ttla {
namespace {

constexpr const char* kLandingPage =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head><meta charset=\"utf-8\"><title>ttl-auditor</title></head>\n"
    "<body>\n"
    "<h1>ttl-auditor</h1>\n"
    "<p>Audits data expiry and serves the latest audit.</p>\n"
    "<ul>\n"
    "<li><a href=\"metrics\">/metrics</a>: Prometheus metrics of the last complete audit</li>\n"
    "<li><a href=\"healthz\">/healthz</a>: status of the audit loop (JSON)</li>\n"
    "<li><a href=\"report.json\">/report.json</a>: the last report (JSON)</li>\n"
    "</ul>\n"
    "</body>\n"
    "</html>\n";

HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

}  // namespace

MetricsExporter::MetricsExporter(const std::string& listen, const std::string& web_config_file)
    : metrics_(std::make_shared<SwappableCollectable>()), web_config_file_(web_config_file) {
  HttpServer::TlsContext tls_context;
  if (!web_config_file_.empty()) {
    WebConfig config = load_web_config(web_config_file_);  // throws kConfig
    if (config.tls) {
      make_server_ssl_ctx(config.tls_config);  // a broken certificate is a start-up error
      tls_ = true;
      std::string path = web_config_file_;
      tls_context = [path] {
        WebConfig now = load_web_config(path);
        if (!now.tls) {
          throw Error(ErrorKind::kConfig,
                      path + ": tls_server_config was removed; restart to serve plain HTTP");
        }
        return make_server_ssl_ctx(now.tls_config);
      };
    }
    log::info("serve: web configuration", Fields()
                                              .add("file", web_config_file_)
                                              .add("tls", config.tls)
                                              .add("basic_auth_users", config.users.size()));
  }
  server_ = std::make_unique<HttpServer>(
      listen, [this](const HttpRequest& r) { return handle(r); }, std::move(tls_context));
  port_ = server_->port();
}

MetricsExporter::~MetricsExporter() { server_.reset(); }

void MetricsExporter::set_metrics(std::shared_ptr<prometheus::Collectable> model) {
  metrics_->set(std::move(model));
}

void MetricsExporter::set_report(std::string report_json) {
  std::lock_guard<std::mutex> lock(mu_);
  report_json_ = std::move(report_json);
}

void MetricsExporter::set_health(std::string health_json, bool healthy) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    health_status_ = nlohmann::json::parse(health_json).value("status", "unknown");
  } catch (const std::exception&) {
    health_status_ = "unknown";
  }
  health_json_ = std::move(health_json);
  healthy_ = healthy;
}

HttpResponse MetricsExporter::handle(const HttpRequest& request) {
  WebConfig config;
  if (!web_config_file_.empty()) {
    // Read for every request, as the exporter toolkit does: users change without a restart.
    try {
      config = load_web_config(web_config_file_);
    } catch (const std::exception& e) {
      log::error("serve: unusable web configuration, request refused", Fields()
              .add("error", e.what()));
      HttpResponse r;
      r.status = 500;
      r.body = "internal server error\n";
      return r;
    }
  }
  HttpResponse response;
  if (request.method != "GET" && request.method != "HEAD") {
    response.status = 405;
    response.body = "method not allowed\n";
    response.headers.emplace_back("Allow", "GET, HEAD");
  } else {
    BasicAuth::Result auth = auth_.check(config, request.header("authorization"));
    if (auth == BasicAuth::Result::kDenied ||
        (auth == BasicAuth::Result::kMissing && request.path != "/healthz")) {
      response.status = 401;
      response.body = "unauthorized\n";
      response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"ttl-auditor\", charset=\"UTF-8\"");
    } else {
      response = route(request, auth != BasicAuth::Result::kMissing);
    }
  }
  for (const auto& h : config.headers) response.headers.push_back(h);
  return response;
}

HttpResponse MetricsExporter::route(const HttpRequest& request, bool authenticated) {
  const std::string& path = request.path;
  if (path == "/") {
    HttpResponse r;
    r.content_type = "text/html; charset=utf-8";
    r.body = kLandingPage;
    return r;
  }
  if (path == "/metrics") {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = serialize_metrics(*metrics_);
    return r;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (path == "/healthz") {
    if (!authenticated) {
      // A probe without credentials learns the status code and the word, nothing else.
      return json_response(healthy_ ? 200 : 503,
                           nlohmann::json{{"status", health_status_}}.dump());
    }
    return json_response(healthy_ ? 200 : 503, health_json_);
  }
  if (path == "/report.json") {
    if (report_json_.empty()) return json_response(503, R"({"error":"no audit finished yet"})");
    return json_response(200, report_json_);
  }
  HttpResponse r;
  r.status = 404;
  r.body = "not found; see / for the endpoints\n";
  return r;
}

}  // namespace ttla
