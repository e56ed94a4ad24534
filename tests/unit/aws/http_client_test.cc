// HttpClient against a real loopback server: methods, keep-alive reuse, every transport failure
// kind we can provoke locally, the response cap, proxies from the environment, and redaction.
#include "aws/http_client.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>
#include <fcntl.h>

#include "support/test_http_server.h"
#include "support/require.h"

extern char** environ;

namespace ttla::aws {
namespace {

using ttla::testing::CannedResponse;
using ttla::testing::ReceivedRequest;
using ttla::testing::TestHttpServer;

// Sets/unsets environment variables for one test and restores them afterwards.
class ScopedEnv {
 public:
  ScopedEnv() = default;
  ~ScopedEnv() {
    for (auto& [name, old] : saved_) {
      if (old) ::setenv(name.c_str(), old->c_str(), 1);
      else ::unsetenv(name.c_str());
    }
  }
  void set(const std::string& name, const std::string& value) {
    remember(name);
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  void unset(const std::string& name) {
    remember(name);
    ::unsetenv(name.c_str());
  }

 private:
  void remember(const std::string& name) {
    if (saved_.count(name)) return;
    const char* v = std::getenv(name.c_str());
    saved_[name] = v ? std::optional<std::string>(v) : std::nullopt;
  }
  std::map<std::string, std::optional<std::string>> saved_;
};

// Every test runs without proxies from the developer's environment unless it sets them.
class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                             "ALL_PROXY", "no_proxy", "NO_PROXY"}) {
      env_.unset(name);
    }
  }
  ScopedEnv env_;
};

// By value: callers pass the temporary straight from perform().
HttpResponse expect_response(const HttpResult& result) {
  if (const auto* err = std::get_if<TransportError>(&result)) {
    ADD_FAILURE() << "unexpected transport error: " << err->message;
    return {};
  }
  return std::get<HttpResponse>(result);
}

TransportError expect_error(const HttpResult& result) {
  if (const auto* resp = std::get_if<HttpResponse>(&result)) {
    ADD_FAILURE() << "expected a transport error, got HTTP " << resp->status;
    return {};
  }
  return std::get<TransportError>(result);
}

int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);  // nobody listens there now: connect gets ECONNREFUSED
  return ntohs(addr.sin_port);
}

TEST_F(HttpClientTest, GetReturnsStatusLowerCasedHeadersAndBody) {
  TestHttpServer server([](const ReceivedRequest&) {
    CannedResponse r;
    r.status = 200;
    r.headers = {{"X-Amz-Request-Id", "req-1"}, {"Content-Type", "text/plain"}};
    r.body = "hello";
    return r;
  });
  HttpClient client;
  HttpRequest req;
  req.url = server.url("/path/x?a=1&b=two");
  req.headers = {{"X-Custom", "v1"}, {"X-Empty", ""}};
  HttpResponse resp = expect_response(client.perform(req));
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, "hello");
  ASSERT_NE(resp.header("x-amz-request-id"), nullptr);
  EXPECT_EQ(*resp.header("x-amz-request-id"), "req-1");
  EXPECT_EQ(resp.header("X-Amz-Request-Id"), nullptr);  // lookups are by lower-case name
  auto got = server.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "GET");
  EXPECT_EQ(got[0].target, "/path/x?a=1&b=two");
  EXPECT_EQ(got[0].headers["x-custom"], "v1");
  ASSERT_TRUE(got[0].headers.count("x-empty"));
  EXPECT_EQ(got[0].headers["x-empty"], "");
}

// A body is read into one allocation sized from Content-Length with the parsers' padding to
// spare, and a recycled buffer carries its allocation, never its bytes, into the next response.
TEST_F(HttpClientTest, BodyIsSizedFromContentLengthAndRecycledBuffersAreReused) {
  const std::string big(300000, 'a');
  TestHttpServer server([&](const ReceivedRequest& r) {
    CannedResponse c;
    c.body = r.target == "/big" ? big : "bc";
    return c;
  });
  HttpClient client;
  HttpRequest req;
  req.url = server.url("/big");
  HttpResult first = client.perform(req);
  ASSERT_TRUE(std::holds_alternative<HttpResponse>(first));
  HttpResponse page = std::get<HttpResponse>(std::move(first));
  EXPECT_EQ(page.body, big);
  // Grown chunk by chunk (16 KB at a time) the capacity would be a power-of-two step, not this.
  EXPECT_GE(page.body.capacity(), big.size() + HttpClient::kBodyPadding);
  EXPECT_LT(page.body.capacity(), big.size() + 2 * HttpClient::kBodyPadding);
  const char* buffer = page.body.data();
  client.recycle(std::move(page.body));

  req.url = server.url("/small");
  HttpResult second = client.perform(req);
  ASSERT_TRUE(std::holds_alternative<HttpResponse>(second));
  HttpResponse small = std::get<HttpResponse>(std::move(second));
  EXPECT_EQ(small.body, "bc");                    // nothing left over from the first body
  EXPECT_EQ(small.body.data(), buffer);           // the same allocation, reused
  EXPECT_GE(small.body.capacity(), big.size());
  // A smaller buffer handed back does not replace the larger one kept.
  client.recycle(std::move(small.body));
  client.recycle(std::string(100, 't'));
  HttpResult third = client.perform(req);
  ASSERT_TRUE(std::holds_alternative<HttpResponse>(third));
  HttpResponse again = std::get<HttpResponse>(std::move(third));
  EXPECT_EQ(again.body, "bc");
  EXPECT_EQ(again.body.data(), buffer);
}

// A HEAD's Content-Length is the object's size (gigabytes on S3), not a body to make room for.
TEST_F(HttpClientTest, HeadDoesNotReserveTheObjectsSize) {
  TestHttpServer server([](const ReceivedRequest&) {
    CannedResponse c;
    c.headers = {{"Content-Length", "50000000"}};
    return c;
  });
  HttpClient client;
  HttpRequest req;
  req.method = "HEAD";
  req.url = server.url("/bucket/huge.bin");
  HttpResult r = client.perform(req);
  ASSERT_TRUE(std::holds_alternative<HttpResponse>(r));
  HttpResponse resp = std::get<HttpResponse>(std::move(r));
  ASSERT_NE(resp.header("content-length"), nullptr);
  EXPECT_EQ(*resp.header("content-length"), "50000000");
  EXPECT_TRUE(resp.body.empty());
  EXPECT_LT(resp.body.capacity(), 1000000u);
}

TEST_F(HttpClientTest, DotSegmentsInThePathAreSentAsIs) {
  // S3 keys may contain "/./" and "/../": the path must reach the server exactly as signed.
  TestHttpServer server([](const ReceivedRequest&) { return CannedResponse{}; });
  HttpClient client;
  HttpRequest req;
  req.url = server.url("/bucket/a/./b/../c/%2E%2E/d?uploadId=x");
  expect_response(client.perform(req));
  req.method = "HEAD";
  req.url = server.url("/bucket/../../etc/./k");
  expect_response(client.perform(req));
  auto got = server.requests();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].target, "/bucket/a/./b/../c/%2E%2E/d?uploadId=x");
  EXPECT_EQ(got[1].target, "/bucket/../../etc/./k");
}

TEST_F(HttpClientTest, PostSendsBodyWithoutCurlDefaults) {
  TestHttpServer server([](const ReceivedRequest& r) {
    CannedResponse c;
    c.body = "echo:" + r.body;
    return c;
  });
  HttpClient client;
  HttpRequest req;
  req.method = "POST";
  req.url = server.url("/");
  req.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                 {"X-Amz-Target", "DynamoDB_20120810.Scan"}};
  req.body = std::string(5000, 'x');  // large enough that curl would otherwise send Expect
  HttpResponse resp = expect_response(client.perform(req));
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, "echo:" + req.body);
  auto got = server.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].body, req.body);
  EXPECT_EQ(got[0].headers["content-type"], "application/x-amz-json-1.0");
  EXPECT_EQ(got[0].headers["x-amz-target"], "DynamoDB_20120810.Scan");
  EXPECT_EQ(got[0].headers.count("expect"), 0u);
}

TEST_F(HttpClientTest, PostWithoutContentTypeGetsNoFormDefault) {
  TestHttpServer server([](const ReceivedRequest&) { return CannedResponse{}; });
  HttpClient client;
  HttpRequest req;
  req.method = "POST";
  req.url = server.url("/");
  req.body = "a=b";
  expect_response(client.perform(req));
  auto got = server.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].headers.count("content-type"), 0u);
}

TEST_F(HttpClientTest, HeadHasNoBodyButKeepsHeaders) {
  TestHttpServer server([](const ReceivedRequest&) {
    CannedResponse c;
    c.headers = {{"x-amz-expiration", "expiry-date=\"Fri, 23 Dec 2026 00:00:00 GMT\", rule-id=\"r\""}};
    c.body = std::string(100, 'b');  // Content-Length 100 announced, body not sent for HEAD
    return c;
  });
  HttpClient client;
  HttpRequest req;
  req.method = "HEAD";
  req.url = server.url("/bucket/key");
  HttpResponse resp = expect_response(client.perform(req));
  EXPECT_EQ(resp.status, 200);
  EXPECT_TRUE(resp.body.empty());
  ASSERT_NE(resp.header("content-length"), nullptr);
  EXPECT_EQ(*resp.header("content-length"), "100");
  ASSERT_NE(resp.header("x-amz-expiration"), nullptr);
  EXPECT_EQ(server.requests().at(0).method, "HEAD");
  // The connection is still usable after a HEAD (curl did not wait for the announced body).
  req.method = "GET";
  EXPECT_EQ(expect_response(client.perform(req)).body.size(), 100u);
  EXPECT_EQ(server.connection_count(), 1);
}

TEST_F(HttpClientTest, PutSendsMethodAndHeaders) {
  TestHttpServer server([](const ReceivedRequest&) {
    CannedResponse c;
    c.body = "token";
    return c;
  });
  HttpClient client;
  HttpRequest req;
  req.method = "PUT";
  req.url = server.url("/latest/api/token");
  req.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
  EXPECT_EQ(expect_response(client.perform(req)).body, "token");
  auto got = server.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "PUT");
  EXPECT_EQ(got[0].headers["x-aws-ec2-metadata-token-ttl-seconds"], "21600");
  EXPECT_EQ(got[0].headers["content-length"], "0");
}

TEST_F(HttpClientTest, UnsupportedMethodIsRefusedLocally) {
  TestHttpServer server([](const ReceivedRequest&) { return CannedResponse{}; });
  HttpClient client;
  HttpRequest req;
  req.method = "DELETE";
  req.url = server.url("/");
  EXPECT_EQ(expect_error(client.perform(req)).kind, TransportError::Kind::kOther);
  EXPECT_EQ(server.request_count(), 0u);
}

TEST_F(HttpClientTest, TwoRequestsReuseOneConnection) {
  TestHttpServer server([](const ReceivedRequest& r) {
    CannedResponse c;
    c.body = r.target;
    return c;
  });
  HttpClient client;
  HttpRequest req;
  req.url = server.url("/one");
  EXPECT_EQ(expect_response(client.perform(req)).body, "/one");
  req.method = "POST";
  req.url = server.url("/two");
  req.body = "{}";
  EXPECT_EQ(expect_response(client.perform(req)).body, "/two");
  auto got = server.requests();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(server.connection_count(), 1);
  EXPECT_EQ(got[0].connection_id, got[1].connection_id);
}

TEST_F(HttpClientTest, SeparateClientsUseSeparateConnections) {
  TestHttpServer server([](const ReceivedRequest&) { return CannedResponse{}; });
  HttpClient a, b;
  HttpRequest req;
  req.url = server.url("/");
  expect_response(a.perform(req));
  expect_response(b.perform(req));
  EXPECT_EQ(server.connection_count(), 2);
}

TEST_F(HttpClientTest, ClosedPortIsConnectError) {
  HttpClient client;
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";
  TransportError err = expect_error(client.perform(req));
  EXPECT_EQ(err.kind, TransportError::Kind::kConnect) << err.message;
}

TEST_F(HttpClientTest, StallPastTimeoutIsTimeout) {
  TestHttpServer server([](const ReceivedRequest&) {
    CannedResponse c;
    c.stall_ms = 1500;
    return c;
  });
  HttpOptions opts;
  opts.total_timeout_ms = 300;
  HttpClient client(opts);
  HttpRequest req;
  req.url = server.url("/");
  auto start = std::chrono::steady_clock::now();
  TransportError err = expect_error(client.perform(req));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start).count();
  EXPECT_EQ(err.kind, TransportError::Kind::kTimeout) << err.message;
  EXPECT_GE(ms, 250);
  EXPECT_LT(ms, 1400);  // gave up before the server answered
}

TEST_F(HttpClientTest, ResetIsTransportErrorNotStatus) {
  TestHttpServer server([](const ReceivedRequest&) {
    CannedResponse c;
    c.reset_connection = true;
    return c;
  });
  HttpClient client;
  HttpRequest req;
  req.url = server.url("/");
  TransportError err = expect_error(client.perform(req));
  EXPECT_EQ(err.kind, TransportError::Kind::kReset) << err.message;
}

TEST_F(HttpClientTest, ResetOnReusedConnectionIsRetriedOnceByLibcurl) {
  // libcurl resends a request whose reused keep-alive connection died before any byte of the
  // answer (the classic keep-alive race). Callers counting server requests must expect that.
  int n = 0;
  TestHttpServer server([&n](const ReceivedRequest&) {
    CannedResponse c;
    c.reset_connection = (++n == 2);
    c.body = "ok" + std::to_string(n);
    return c;
  });
  HttpClient client;
  HttpRequest req;
  req.url = server.url("/");
  EXPECT_EQ(expect_response(client.perform(req)).body, "ok1");
  EXPECT_EQ(expect_response(client.perform(req)).body, "ok3");
  EXPECT_EQ(server.request_count(), 3u);
  EXPECT_EQ(server.connection_count(), 2);
}

TEST_F(HttpClientTest, AnnouncedBodyOverCapIsTooLarge) {
  TestHttpServer server([](const ReceivedRequest&) {
    CannedResponse c;
    c.body = std::string(10000, 'z');
    return c;
  });
  HttpOptions opts;
  opts.max_response_bytes = 1000;
  HttpClient client(opts);
  HttpRequest req;
  req.url = server.url("/");
  TransportError err = expect_error(client.perform(req));
  EXPECT_EQ(err.kind, TransportError::Kind::kTooLarge) << err.message;
}

TEST_F(HttpClientTest, ChunkedBodyOverCapIsTooLarge) {
  // No Content-Length: only the write callback can notice the overflow.
  TestHttpServer server([](const ReceivedRequest&) {
    CannedResponse c;
    c.headers = {{"Transfer-Encoding", "chunked"}, {"Content-Length", "0"}};
    std::string chunk(800, 'c');
    c.body = "320\r\n" + chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n";
    return c;
  });
  HttpOptions opts;
  opts.max_response_bytes = 1000;
  HttpClient client(opts);
  HttpRequest req;
  req.url = server.url("/");
  TransportError err = expect_error(client.perform(req));
  EXPECT_EQ(err.kind, TransportError::Kind::kTooLarge) << err.message;

  // Under the cap the same framing works.
  HttpOptions roomy;
  roomy.max_response_bytes = 1600;
  HttpClient ok(roomy);
  EXPECT_EQ(expect_response(ok.perform(req)).body.size(), 1600u);
}

TEST_F(HttpClientTest, ServerErrorIsResponseNotTransportError) {
  TestHttpServer server([](const ReceivedRequest&) {
    CannedResponse c;
    c.status = 500;
    c.body = R"({"__type":"com.amazon.coral.service#InternalFailure"})";
    return c;
  });
  HttpClient client;
  HttpRequest req;
  req.url = server.url("/");
  HttpResponse resp = expect_response(client.perform(req));
  EXPECT_EQ(resp.status, 500);
  EXPECT_NE(resp.body.find("InternalFailure"), std::string::npos);
}

TEST_F(HttpClientTest, HttpProxyFromEnvironmentReceivesRequest) {
  TestHttpServer target([](const ReceivedRequest&) {
    CannedResponse c;
    c.body = "direct";
    return c;
  });
  TestHttpServer proxy([](const ReceivedRequest&) {
    CannedResponse c;
    c.body = "via-proxy";
    return c;
  });
  // libcurl honours only the lower-case http_proxy for http:// URLs (httpoxy protection);
  // HTTPS_PROXY/https_proxy and NO_PROXY/no_proxy are read in either case.
  env_.set("http_proxy", proxy.url(""));
  HttpClient client;
  HttpRequest req;
  req.url = "http://service.example.invalid:8000/x?y=1";
  EXPECT_EQ(expect_response(client.perform(req)).body, "via-proxy");
  auto got = proxy.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].target, "http://service.example.invalid:8000/x?y=1");  // absolute form
  EXPECT_EQ(got[0].headers["host"], "service.example.invalid:8000");

  req.url = target.url("/direct");
  EXPECT_EQ(expect_response(client.perform(req)).body, "via-proxy");
  EXPECT_EQ(target.request_count(), 0u);

  env_.set("NO_PROXY", "localhost,127.0.0.1");
  EXPECT_EQ(expect_response(client.perform(req)).body, "direct");
  EXPECT_EQ(target.request_count(), 1u);
  EXPECT_EQ(proxy.request_count(), 2u);
}

TEST_F(HttpClientTest, BypassProxyIgnoresProxyEnvironment) {
  TestHttpServer target([](const ReceivedRequest&) {
    CannedResponse c;
    c.body = "direct";
    return c;
  });
  TestHttpServer proxy([](const ReceivedRequest&) {
    CannedResponse c;
    c.body = "via-proxy";
    return c;
  });
  env_.set("http_proxy", proxy.url(""));
  HttpOptions opts;
  opts.bypass_proxy = true;
  HttpClient client(opts);
  HttpRequest req;
  req.url = target.url("/latest/api/token");
  EXPECT_EQ(expect_response(client.perform(req)).body, "direct");
  EXPECT_EQ(proxy.request_count(), 0u);
}

TEST_F(HttpClientTest, HttpsProxyFromEnvironmentGetsConnect) {
  TestHttpServer proxy([](const ReceivedRequest&) {
    CannedResponse c;
    c.status = 403;  // refuse the tunnel: we only want to see that the proxy was asked
    return c;
  });
  env_.set("HTTPS_PROXY", proxy.url(""));
  HttpClient client;
  HttpRequest req;
  req.url = "https://dynamodb.eu-west-1.amazonaws.com/";
  TransportError err = expect_error(client.perform(req));
  EXPECT_NE(err.kind, TransportError::Kind::kTooLarge);
  auto got = proxy.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "CONNECT");
  EXPECT_EQ(got[0].target, "dynamodb.eu-west-1.amazonaws.com:443");

  req.url = "https://127.0.0.1:" + std::to_string(closed_port()) + "/";
  env_.set("NO_PROXY", "127.0.0.1");
  EXPECT_EQ(expect_error(client.perform(req)).kind, TransportError::Kind::kConnect);
  EXPECT_EQ(proxy.request_count(), 1u);
}

// Runs a command to completion (no shell); returns its exit status.
int run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A real TLS server: `openssl s_server -www` with a fresh self-signed certificate for
// 127.0.0.1, on a free loopback port. Killed by its pid.
class TlsServer {
 public:
  bool start() {
    char tmpl[] = "/tmp/ttla-tls-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    cert_ = dir_ + "/cert.pem";
    std::string key = dir_ + "/key.pem";
    if (run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out",
             cert_, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
             "subjectAltName=IP:127.0.0.1"}) != 0) {
      return false;
    }
    port_ = closed_port();
    std::vector<std::string> argv = {"openssl", "s_server", "-quiet", "-www", "-accept",
                                      "127.0.0.1:" + std::to_string(port_), "-cert", cert_,
                                      "-key", key};
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      pid_ = -1;
      return false;
    }
    for (int i = 0; i < 100; ++i) {  // wait until it accepts connections
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(port_));
      bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      ::close(fd);
      if (ok) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  ~TlsServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/"; }
  const std::string& cert() const { return cert_; }

 private:
  std::string dir_, cert_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(HttpClientTest, TlsIsVerifiedAndCaBundleIsHonoured) {
  TlsServer tls;
  if (!tls.start()) TTLA_SKIP_OR_FAIL("openssl s_server could not be started");
  HttpRequest req;
  req.url = tls.url();
  {
    // Self-signed and not in the system store: verification must refuse it.
    HttpClient client;
    TransportError err = expect_error(client.perform(req));
    EXPECT_EQ(err.kind, TransportError::Kind::kTls) << err.message;
  }
  HttpOptions opts;
  opts.ca_bundle = tls.cert();
  HttpClient trusting(opts);
  HttpResponse resp = expect_response(trusting.perform(req));
  EXPECT_EQ(resp.status, 200);
  EXPECT_FALSE(resp.body.empty());
  // A bundle that does not contain the server's certificate fails again.
  HttpOptions wrong;
  wrong.ca_bundle = "/etc/ssl/certs/ca-certificates.crt";
  if (std::filesystem::exists(wrong.ca_bundle)) {
    HttpClient other(wrong);
    EXPECT_EQ(expect_error(other.perform(req)).kind, TransportError::Kind::kTls);
  }
}

TEST_F(HttpClientTest, SecretsNeverReachLogsOrErrors) {
  std::ostringstream logs;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(logs);
  auto logger = std::make_shared<spdlog::logger>("capture", sink);
  logger->set_level(spdlog::level::trace);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::trace);

  TestHttpServer server([](const ReceivedRequest&) { return CannedResponse{}; });
  HttpClient client;
  HttpRequest req;
  req.url = server.url("/k?X-Amz-Signature=SIGSECRET&X-Amz-Security-Token=TOKSECRET");
  req.headers = {{"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDSECRET"},
                 {"X-Amz-Security-Token", "TOKSECRET"}};
  expect_response(client.perform(req));
  req.url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/?X-Amz-Signature=SIGSECRET";
  TransportError err = expect_error(client.perform(req));

  spdlog::set_default_logger(previous);
  std::string text = logs.str();
  EXPECT_NE(text.find("http request"), std::string::npos);  // something was logged at all
  for (const char* secret : {"SIGSECRET", "TOKSECRET", "AKIDSECRET"}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret;
    EXPECT_EQ(err.message.find(secret), std::string::npos) << secret;
  }
}

}  // namespace
}  // namespace ttla::aws
