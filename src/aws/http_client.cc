#include "aws/http_client.h"

#include <curl/curl.h>
#include "core/log.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "core/text.h"

namespace ttla::aws {

namespace {

// curl_global_init is not thread-safe and must run before any easy handle exists; a
// function-local static gives exactly-once initialisation under C++11 rules.
void ensure_curl_global_init() {
  struct GlobalInit {
    CURLcode code;
    GlobalInit() : code(curl_global_init(CURL_GLOBAL_DEFAULT)) {}
  };
  static const GlobalInit init;
  if (init.code != CURLE_OK) {
    throw std::runtime_error(std::string("curl_global_init failed: ") +
                             curl_easy_strerror(init.code));
  }
}

struct CurlEasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlEasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlSlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// Query strings may carry presigned credentials (X-Amz-Credential, X-Amz-Security-Token), so
// messages and logs only ever show scheme, host and path.
std::string redact_url(std::string_view url) {
  size_t q = url.find_first_of("?#");
  return std::string(url.substr(0, q));
}

// Appends one header to the list, keeping ownership in `list` at every step: on failure
// curl_slist_append returns null and leaves the old list untouched, still owned by `list`.
void append_header(CurlSlistPtr& list, const std::string& line) {
  curl_slist* head = curl_slist_append(list.get(), line.c_str());
  if (head == nullptr) throw std::bad_alloc();
  (void)list.release();  // `head` is the same list (or a new one when it was empty)
  list.reset(head);
}

TransportError::Kind map_curl_code(CURLcode code) {
  using Kind = TransportError::Kind;
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return Kind::kDns;
    case CURLE_COULDNT_CONNECT:
      return Kind::kConnect;
    case CURLE_OPERATION_TIMEDOUT:
      return Kind::kTimeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
      return Kind::kTls;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return Kind::kReset;
    case CURLE_FILESIZE_EXCEEDED:
      return Kind::kTooLarge;
    default:
      return Kind::kOther;
  }
}

const char* kind_name(TransportError::Kind kind) {
  using Kind = TransportError::Kind;
  switch (kind) {
    case Kind::kDns: return "dns";
    case Kind::kConnect: return "connect";
    case Kind::kTimeout: return "timeout";
    case Kind::kTls: return "tls";
    case Kind::kReset: return "reset";
    case Kind::kTooLarge: return "too_large";
    case Kind::kOther: return "other";
    case Kind::kAborted: return "aborted";
  }
  return "other";
}

}  // namespace

const std::string* HttpResponse::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

struct HttpClient::Impl {
  HttpOptions options;
  CurlEasyPtr easy;
  char error_buffer[CURL_ERROR_SIZE] = {};

  // Per-transfer state the callbacks write into.
  HttpResponse* response = nullptr;
  bool too_large = false;
  // A body buffer handed back by recycle(), reused by the next response.
  std::string spare;
  bool expect_body = true;  // false for HEAD, whose Content-Length is the object's, not a body's

  static size_t on_body(char* data, size_t size, size_t nmemb, void* user) {
    auto* self = static_cast<Impl*>(user);
    size_t n = size * nmemb;
    if (self->response->body.size() + n > self->options.max_response_bytes) {
      self->too_large = true;
      return 0;  // a short write makes curl abort with CURLE_WRITE_ERROR
    }
    self->response->body.append(data, n);
    return n;
  }

  static size_t on_header(char* data, size_t size, size_t nmemb, void* user) {
    auto* self = static_cast<Impl*>(user);
    size_t n = size * nmemb;
    std::string_view line(data, n);
    if (line.rfind("HTTP/", 0) == 0) {
      // A new status line (after 100 Continue or a proxy's CONNECT answer): only the final
      // response's headers count.
      self->response->headers.clear();
      return n;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return n;  // blank line ending the block, or junk
    self->response->headers.emplace_back(to_lower(trim(line.substr(0, colon))),
                                         std::string(trim(line.substr(colon + 1))));
    if (self->expect_body && self->response->headers.back().first == "content-length") {
      // One allocation of the announced size (plus the parsers' padding) instead of growing by
      // doubling; a body over the cap is refused before its first byte anyway.
      const std::string& v = self->response->headers.back().second;
      size_t length = 0;
      bool digits = !v.empty() && v.size() <= 12;
      for (char c : v) {
        if (c < '0' || c > '9') digits = false;
        else length = length * 10 + static_cast<size_t>(c - '0');
      }
      if (digits && length <= self->options.max_response_bytes) {
        self->response->body.reserve(length + kBodyPadding);
      }
    }
    return n;
  }

  // Polled by libcurl about once a second while a transfer waits, and on every chunk.
  static int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* self = static_cast<Impl*>(user);
    return self->options.abort != nullptr && self->options.abort->load() ? 1 : 0;
  }

  // Readies the handle and the callbacks' state for a new transfer into `out`.
  void begin(const HttpRequest& request, HttpResponse& out) {
    // curl_easy_reset clears options but keeps the connection cache, so keep-alive connections
    // survive across calls while no option of a previous request leaks into this one.
    curl_easy_reset(easy.get());
    error_buffer[0] = '\0';
    too_large = false;
    expect_body = request.method != "HEAD";
    out.body.swap(spare);
    out.body.clear();
    response = &out;
  }

  // Ends the transfer as a transport error naming the method and the (redacted) URL.
  HttpResult fail(const HttpRequest& request, TransportError::Kind kind, std::string message) {
    response = nullptr;
    TransportError err;
    err.kind = kind;
    err.message = std::move(message) + " (" + request.method + " " + redact_url(request.url) + ")";
    return err;
  }

  // URL, timeouts, TLS, size cap and callbacks: what every transfer sets the same way.
  void set_transfer_options(const HttpRequest& request) {
    CURL* h = easy.get();
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for DNS timeouts: threads
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, options.connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, options.total_timeout_ms);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    // The path is sent as signed: S3 keys may hold "/./" or "/../", which libcurl would otherwise
    // squash (RFC 3986 dot-segment removal) and so break the signature or reach another key.
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    if (options.bypass_proxy) curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    // TLS is always verified; there is deliberately no option to turn it off.
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options.ca_bundle.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options.ca_bundle.c_str());
    // Reject early when the server announces a body larger than the cap; the write callback
    // catches chunked or lying responses.
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(options.max_response_bytes));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Impl::on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Impl::on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, this);
  }

  // Lets the abort flag stop the transfer; false when it is already set (send nothing).
  bool watch_abort() {
    if (options.abort == nullptr) return true;
    if (options.abort->load()) return false;
    CURL* h = easy.get();
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &Impl::on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, this);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    return true;
  }

  // The method and, for POST/PUT, the body.
  void set_method(const HttpRequest& request) {
    CURL* h = easy.get();
    const std::string& m = request.method;
    if (m == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (m == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
      if (m == "POST") {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
      } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m.c_str());
      }
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    }
  }

  // Builds the request's header list into `list` (which must outlive the transfer); returns
  // an error text for a header that would split the request.
  std::optional<std::string> set_headers(const HttpRequest& request, CurlSlistPtr& list) {
    bool has_content_type = false;
    for (const auto& [name, value] : request.headers) {
      if (name.find_first_of("\r\n:") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        return "header '" + name + "' contains a line break";
      }
      if (to_lower(name) == "content-type") has_content_type = true;
      // "Name;" is curl's spelling of a header sent with an empty value.
      append_header(list, value.empty() ? name + ";" : name + ": " + value);
    }
    // libcurl would add "Content-Type: application/x-www-form-urlencoded" to bodies and wait for
    // "100 Continue" on large ones; AWS wants neither unless asked.
    if (request.method == "POST" || request.method == "PUT") {
      if (!has_content_type) append_header(list, "Content-Type:");
      append_header(list, "Expect:");
    }
    if (list) curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, list.get());
    return std::nullopt;
  }

  // Runs the transfer; returns its duration in milliseconds.
  double transfer(CURLcode* rc) {
    CURL* h = easy.get();
    auto started = std::chrono::steady_clock::now();
    *rc = curl_easy_perform(h);
    double elapsed_ms = std::chrono::duration<double, std::milli>(
                            std::chrono::steady_clock::now() - started).count();
    // The list must outlive the transfer; it is freed by the caller's list after this.
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
    return elapsed_ms;
  }

  // Turns a failed transfer into a transport error of the right kind, and logs it.
  HttpResult transport_failure(const HttpRequest& request, CURLcode rc, double elapsed_ms) {
    TransportError::Kind kind = map_curl_code(rc);
    if (too_large || rc == CURLE_FILESIZE_EXCEEDED) kind = TransportError::Kind::kTooLarge;
    if (rc == CURLE_ABORTED_BY_CALLBACK) kind = TransportError::Kind::kAborted;
    std::string text = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
    if (kind == TransportError::Kind::kTooLarge) {
      text = "response exceeds " + std::to_string(options.max_response_bytes) + " bytes";
    }
    log::debug("http transport_error", Fields()
            .add("method", request.method)
            .add("url", redact_url(request.url))
            .add("kind", kind_name(kind))
            .add("curl_code", static_cast<int>(rc))
            .add("elapsed_ms", elapsed_ms, 1));
    return fail(request, kind, "curl: " + text);
  }

  // Completes a transfer that got an answer: its status, and one log line.
  HttpResult finish(const HttpRequest& request, HttpResponse& out, double elapsed_ms) {
    curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &out.status);
    response = nullptr;
    // Header values are never logged: they may be Authorization or X-Amz-Security-Token.
    log::debug("http request", Fields()
            .add("method", request.method)
            .add("url", redact_url(request.url))
            .add("status", out.status)
            .add("bytes", out.body.size())
            .add("elapsed_ms", elapsed_ms, 1));
    return std::move(out);
  }
};

HttpClient::HttpClient(HttpOptions options) : impl_(std::make_unique<Impl>()) {
  ensure_curl_global_init();
  impl_->options = std::move(options);
  impl_->easy.reset(curl_easy_init());
  if (!impl_->easy) throw std::runtime_error("curl_easy_init failed");
}

HttpClient::~HttpClient() = default;

void HttpClient::recycle(std::string&& body) {
  if (body.capacity() > impl_->spare.capacity()) impl_->spare = std::move(body);
}

HttpResult HttpClient::perform(const HttpRequest& request) {
  Impl& s = *impl_;
  HttpResponse response;
  s.begin(request, response);
  const std::string& m = request.method;
  if (m != "GET" && m != "HEAD" && m != "POST" && m != "PUT") {
    return s.fail(request, TransportError::Kind::kOther, "unsupported HTTP method");
  }
  s.set_transfer_options(request);
  if (!s.watch_abort()) {
    return s.fail(request, TransportError::Kind::kAborted, "stopped before sending");
  }
  s.set_method(request);
  CurlSlistPtr header_list;
  if (auto bad = s.set_headers(request, header_list)) {
    return s.fail(request, TransportError::Kind::kOther, std::move(*bad));
  }
  CURLcode rc = CURLE_OK;
  double elapsed_ms = s.transfer(&rc);
  if (rc != CURLE_OK) return s.transport_failure(request, rc, elapsed_ms);
  return s.finish(request, response, elapsed_ms);
}

}  // namespace ttla::aws
