#include "sinks/http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>

#include "core/log.h"

#include "core/error.h"

namespace ttla {
namespace {

using Clock = std::chrono::steady_clock;

// The host and port of "host:port", "[v6]:port" or ":port".
bool split_listen(const std::string& listen, std::string& host, std::string& port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  host = listen.substr(0, colon);
  port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (port.empty() || port.size() > 5) return false;
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return std::stoi(port) <= 65535;
}

// Reads and writes one connection, plain or TLS, within a deadline.
class Conn {
 public:
  Conn(int fd, Clock::time_point deadline) : fd_(fd), deadline_(deadline) {}
  ~Conn() {
    if (ssl_) SSL_free(ssl_);
  }

  // Waits for the socket within the deadline; false on timeout or error.
  bool wait(short events) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, events, 0};
      int r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r > 0) return (p.revents & (events | POLLHUP | POLLERR)) != 0;
      if (r == 0 || errno != EINTR) return false;
    }
  }

  bool handshake(SSL_CTX* ctx) {
    ssl_ = SSL_new(ctx);
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) return false;
    for (;;) {
      int r = SSL_accept(ssl_);
      if (r == 1) return true;
      if (!retry(r)) return false;
    }
  }

  // Some bytes, 0 at end of stream, -1 on error/timeout.
  long read(char* buf, size_t n) {
    for (;;) {
      if (ssl_) {
        int r = SSL_read(ssl_, buf, static_cast<int>(n));
        if (r > 0) return r;
        if (SSL_get_error(ssl_, r) == SSL_ERROR_ZERO_RETURN) return 0;
        if (!retry(r)) return -1;
        continue;
      }
      if (!wait(POLLIN)) return -1;
      ssize_t r = ::recv(fd_, buf, n, 0);
      if (r >= 0) return r;
      if (errno != EINTR && errno != EAGAIN) return -1;
    }
  }

  bool write_all(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      if (ssl_) {
        int r = SSL_write(ssl_, data.data() + off, static_cast<int>(data.size() - off));
        if (r > 0) {
          off += static_cast<size_t>(r);
        } else if (!retry(r)) {
          return false;
        }
        continue;
      }
      if (!wait(POLLOUT)) return false;
      ssize_t r = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (r > 0) {
        off += static_cast<size_t>(r);
      } else if (r < 0 && errno != EINTR && errno != EAGAIN) {
        return false;
      }
    }
    return true;
  }

  void close_tls() {
    if (ssl_) SSL_shutdown(ssl_);
  }

 private:
  // After a non-blocking TLS call returned `r`: waits when it wants I/O, false otherwise.
  bool retry(int r) {
    switch (SSL_get_error(ssl_, r)) {
      case SSL_ERROR_WANT_READ: return wait(POLLIN);
      case SSL_ERROR_WANT_WRITE: return wait(POLLOUT);
      default: ERR_clear_error(); return false;
    }
  }

  int fd_;
  Clock::time_point deadline_;
  SSL* ssl_ = nullptr;
};

// Parses the request head (through the empty line). False when malformed.
bool parse_head(const std::string& head, HttpRequest& req) {
  size_t eol = head.find("\r\n");
  std::string line = head.substr(0, eol);
  size_t a = line.find(' ');
  size_t b = a == std::string::npos ? a : line.find(' ', a + 1);
  if (b == std::string::npos || line.compare(b + 1, 5, "HTTP/") != 0) return false;
  req.method = line.substr(0, a);
  std::string target = line.substr(a + 1, b - a - 1);
  if (target.empty() || target.front() != '/') return false;
  size_t q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) req.query = target.substr(q + 1);
  size_t pos = eol + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos || end == pos) break;
    std::string h = head.substr(pos, end - pos);
    pos = end + 2;
    size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) return false;
    std::string name = h.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t v = h.find_first_not_of(" \t", colon + 1);
    std::string value = v == std::string::npos ? "" : h.substr(v);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    req.headers[name] = value;
  }
  return true;
}

std::string render(const HttpResponse& r, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + http_reason(r.status) + "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += "Cache-Control: no-store\r\nConnection: close\r\n";
  for (const auto& [name, value] : r.headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  if (!head_only) out += r.body;
  return out;
}

HttpResponse plain(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// Connection threads take no process signals (SIGTERM/SIGINT go to the main thread) and a
// write to a closed TLS peer returns EPIPE instead of killing the process.
void block_signals_in_this_thread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

}  // namespace

const char* http_reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

HttpServer::HttpServer(const std::string& listen, Handler handler, TlsContext tls_context)
    : handler_(std::move(handler)), tls_context_(std::move(tls_context)) {
  std::string host, port;
  if (!split_listen(listen, host, port)) {
    throw Error(ErrorKind::kConfig, "listen address \"" + listen + "\": expected host:port");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  int gai = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
  if (gai != 0) {
    throw Error(ErrorKind::kNetwork, "listen address \"" + listen + "\": " + gai_strerror(gai));
  }
  std::string last_error = "no address";
  // With ":port", prefer the IPv6 wildcard (dual stack) when the system offers it.
  for (int pass = 0; pass < 2 && listen_fd_ < 0; ++pass) {
    for (addrinfo* ai = res; ai != nullptr && listen_fd_ < 0; ai = ai->ai_next) {
      if (host.empty() && (pass == 0) != (ai->ai_family == AF_INET6)) continue;
      if (!host.empty() && pass == 1) break;
      int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd < 0) {
        last_error = std::strerror(errno);
        continue;
      }
      int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (ai->ai_family == AF_INET6 && host.empty()) {
        int zero = 0;
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
      }
      if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 64) == 0) {
        listen_fd_ = fd;
      } else {
        last_error = std::strerror(errno);
        ::close(fd);
      }
    }
  }
  ::freeaddrinfo(res);
  if (listen_fd_ < 0) throw Error(ErrorKind::kNetwork, "cannot listen on " + listen + ": " + last_error);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  ::fcntl(listen_fd_, F_SETFL, ::fcntl(listen_fd_, F_GETFL) | O_NONBLOCK);
  if (::pipe2(wake_, O_CLOEXEC) != 0) {
    ::close(listen_fd_);
    throw Error(ErrorKind::kNetwork, std::string("pipe: ") + std::strerror(errno));
  }
  acceptor_ = std::thread([this] { accept_loop(); });
}

HttpServer::~HttpServer() {
  stopping_ = true;
  char b = 1;
  [[maybe_unused]] ssize_t w = ::write(wake_[1], &b, 1);
  if (acceptor_.joinable()) acceptor_.join();
  {
    // Connections in progress end at their next read or write.
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  reap(true);
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void HttpServer::reap(bool all) {
  std::vector<std::thread> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = workers_.begin(); it != workers_.end();) {
      if (all || it->second->load()) {
        done.push_back(std::move(it->first));
        it = workers_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& t : done) t.join();
}

void HttpServer::accept_loop() {
  block_signals_in_this_thread();
  while (!stopping_) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    int r = ::poll(p, 2, -1);  // idle costs no wake-ups; stopping writes to the pipe
    reap(false);                 // threads of finished connections
    if (r < 0 && errno != EINTR) {
      log::error("serve: poll failed", Fields().add("error", std::strerror(errno)));
      return;
    }
    if (stopping_ || (p[1].revents & POLLIN)) return;
    if (r <= 0 || !(p[0].revents & POLLIN)) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) continue;  // EAGAIN, ECONNABORTED, EMFILE...: try again at the next poll
    std::lock_guard<std::mutex> lock(mu_);
    if (open_fds_.size() >= static_cast<size_t>(kMaxConnections)) {
      ::close(fd);  // over the limit: the client retries; no thread for it
      continue;
    }
    open_fds_.insert(fd);
    auto done = std::make_shared<std::atomic<bool>>(false);
    workers_.emplace_back(std::thread([this, fd, done] {
                            block_signals_in_this_thread();
                            serve_connection(fd);
                            {
                              std::lock_guard<std::mutex> l(mu_);
                              open_fds_.erase(fd);
                            }
                            ::close(fd);
                            done->store(true);
                          }),
                          done);
  }
}

void HttpServer::serve_connection(int fd) {
  Conn conn(fd, Clock::now() + std::chrono::milliseconds(kReadTimeoutMs));
  bool is_tls = static_cast<bool>(tls_context_);
  if (is_tls) {
    SslCtxPtr ctx;
    try {
      ctx = tls_context_();
    } catch (const std::exception& e) {
      log::error("serve: TLS configuration unusable, connection refused", Fields()
              .add("error", e.what()));
      return;
    }
    if (!ctx || !conn.handshake(ctx.get())) {
      log::debug("serve: TLS handshake failed");
      return;
    }
  }
  std::string head;
  char buf[4096];
  HttpResponse response;
  bool head_only = false;
  for (;;) {
    size_t end = head.find("\r\n\r\n");
    if ((end == std::string::npos ? head.size() : end) > kMaxHeadBytes) {
      response = plain(431, "request head too large\n");
      break;
    }
    if (end != std::string::npos) {
      head.resize(end + 2);
      break;
    }
    long n = conn.read(buf, sizeof buf);
    if (n <= 0) {
      if (n < 0 && !head.empty()) conn.write_all(render(plain(408, "request timeout\n"), false));
      return;
    }
    head.append(buf, static_cast<size_t>(n));
  }
  if (response.status == 200) {
    HttpRequest req;
    if (!parse_head(head, req)) {
      response = plain(400, "bad request\n");
    } else {
      head_only = req.method == "HEAD";
      try {
        response = handler_(req);
      } catch (const std::exception& e) {
        log::error("serve: request failed", Fields().add("path", req.path).add("error", e.what()));
        response = plain(500, "internal error\n");
      }
    }
  }
  if (conn.write_all(render(response, head_only))) conn.close_tls();
}

}  // namespace ttla
