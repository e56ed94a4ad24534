#pragma once
// A small HTTP/1.1 server for `serve`: one listening socket (plain or TLS), one short-lived
// thread per connection (at most kMaxConnections at once), one request per connection
// (`Connection: close`), GET/HEAD only, bounded header size and read time. Stopping closes the
// listener at once and joins every connection thread.
//
// TLS: `tls_context` is called for every accepted connection and returns the context for that
// handshake, so a changed certificate is used by the next connection without a restart.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sinks/web_config.h"

namespace ttla {

struct HttpRequest {
  std::string method;
  std::string path;   // without the query string
  std::string query;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  // Null, or a fresh TLS context per connection (throw to refuse the connection).
  using TlsContext = std::function<SslCtxPtr()>;
  static constexpr int kMaxConnections = 32;
  static constexpr int kReadTimeoutMs = 10000;  // the whole request head, TLS handshake included
  static constexpr size_t kMaxHeadBytes = 16 * 1024;

  // `listen` is "host:port", "[v6]:port" or ":port" (every address); port 0 picks a free one.
  // Throws ttla::Error(kNetwork) when it cannot listen, kConfig for a malformed address.
  HttpServer(const std::string& listen, Handler handler, TlsContext tls_context = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  bool tls() const { return static_cast<bool>(tls_context_); }

 private:
  void accept_loop();
  void serve_connection(int fd);
  void reap(bool all);

  Handler handler_;
  TlsContext tls_context_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // a pipe: writing to it ends accept_loop
  int port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  std::set<int> open_fds_;                    // connections in progress (shut down on stop)
  std::vector<std::pair<std::thread, std::shared_ptr<std::atomic<bool>>>> workers_;  // + done
  std::atomic<bool> stopping_{false};
};

const char* http_reason(int status);

}  // namespace ttla
