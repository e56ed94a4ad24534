#pragma once
// libcurl-based HTTP client. One HttpClient owns one easy handle (connection reuse across calls)
// and is used by one thread at a time. Transport failures and HTTP statuses never share a field:
// HttpResult is either a TransportError or an HttpResponse with its status.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace ttla::aws {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // GET HEAD POST PUT (PUT only for IMDSv2's token; see aws_client)
  std::string url;
  Headers headers;
  std::string body;
};

struct HttpResponse {
  long status = 0;
  Headers headers;  // names lower-cased
  std::string body;
  const std::string* header(std::string_view lower_name) const;
};

struct TransportError {
  // kAborted: HttpOptions::abort was set during the transfer (a target's max_duration, a signal).
  enum class Kind { kDns, kConnect, kTimeout, kTls, kReset, kTooLarge, kOther, kAborted };
  Kind kind = Kind::kOther;
  std::string message;  // curl's text plus context; never contains credentials
};

using HttpResult = std::variant<HttpResponse, TransportError>;

struct HttpOptions {
  long connect_timeout_ms = 3000;
  long total_timeout_ms = 30000;
  std::string ca_bundle;              // empty: system default; TLS is always verified
  size_t max_response_bytes = 64u << 20;
  // Proxies come from HTTPS_PROXY/HTTP_PROXY/NO_PROXY (libcurl reads them; we do not override).
  // Note libcurl reads only the lower-case http_proxy for http:// URLs (httpoxy protection).
  // Additive: never use a proxy, whatever the environment says. For link-local credential
  // endpoints (IMDS, container agent): through a proxy they would reach the proxy host's own
  // metadata service, i.e. a different identity.
  bool bypass_proxy = false;
  // When set and it becomes true, a transfer in progress stops within about a second with
  // TransportError kAborted (a hung server cannot hold a stopped target past its limit).
  const std::atomic<bool>* abort = nullptr;
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Response bodies are read into one buffer per client, sized from Content-Length plus
  // kBodyPadding spare bytes (simdjson reads up to 64 bytes past a document's end), so a body is
  // allocated once instead of growing chunk by chunk.
  HttpResult perform(const HttpRequest& request);
  // Hands a body back once the caller is done with it: the next response reuses its allocation
  // (the larger of it and the buffer already kept). Page loops call this to keep memory flat.
  void recycle(std::string&& body);
  static constexpr size_t kBodyPadding = 64;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ttla::aws
