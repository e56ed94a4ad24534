// AwsClient against a loopback server: clock-skew rejections are re-signed once with the offset
// of the response's Date header; DNS and TLS failures are not retried.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "aws/aws_client.h"
#include "core/error.h"
#include "support/test_http_server.h"

namespace ttla::aws {
namespace {

using ttla::testing::CannedResponse;
using ttla::testing::ReceivedRequest;
using ttla::testing::TestHttpServer;

std::string http_date(time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

time_t amz_date(const std::string& s) {
  std::tm tm{};
  strptime(s.c_str(), "%Y%m%dT%H%M%SZ", &tm);
  return timegm(&tm);
}

std::shared_ptr<CredentialsProvider> creds() {
  Credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = "secret";
  return make_static_provider(c);
}

// A server whose clock is `skew` seconds ahead: it rejects requests signed more than 15 minutes
// away from it with `reject` (status, body), else answers 200 `ok`.
struct SkewedServer {
  SkewedServer(long skew, int status, std::string body, std::string ok)
      : server([this, skew, status, body, ok](const ReceivedRequest& r) {
          std::lock_guard<std::mutex> lock(mu);
          const time_t now = std::time(nullptr) + skew;
          const time_t signed_at = amz_date(r.headers.at("x-amz-date"));
          dates.push_back(signed_at - std::time(nullptr));
          CannedResponse c;
          c.headers = {{"Date", http_date(now)}};
          if (std::labs(static_cast<long>(signed_at - now)) > 900) {
            c.status = status;
            c.body = body;
          } else {
            c.body = ok;
          }
          return c;
        }) {}
  std::mutex mu;
  std::vector<long> dates;  // each request's signing time minus this machine's clock
  TestHttpServer server;
};

ServiceConfig config(const TestHttpServer& s) {
  ServiceConfig c;
  c.region = "us-east-1";
  c.endpoint_url = s.url("");
  c.retry.max_attempts = 3;
  c.retry.base_delay_seconds = 0.001;
  c.retry.max_delay_seconds = 0.01;
  return c;
}

TEST(AwsClientSkew, DynamoDbSignatureExpiredIsResignedWithTheServerClock) {
  SkewedServer s(3600, 400,
                 R"j({"__type":"com.amazon.coral.service#InvalidSignatureException","message":"Signature expired: 20261202T040000Z is now earlier than 20261202T044500Z (20261202T050000Z - 15 min.)"})j",
                 R"({"Table":{}})");
  ServiceConfig c = config(s.server);
  AwsClient client(c, creds());
  EXPECT_NO_THROW(client.dynamodb("DescribeTable", R"({"TableName":"t"})"));
  ASSERT_EQ(s.dates.size(), 2u);
  EXPECT_NEAR(s.dates[0], 0, 5);
  EXPECT_NEAR(s.dates[1], 3600, 5);
  EXPECT_NEAR(static_cast<double>(c.clock_offset->load()), 3600, 5);
  // A second client of the same config (another worker) signs with the offset at once.
  AwsClient other(c, creds());
  EXPECT_NO_THROW(other.dynamodb("DescribeTable", R"({"TableName":"t"})"));
  ASSERT_EQ(s.dates.size(), 3u);
  EXPECT_NEAR(s.dates[2], 3600, 5);
}

TEST(AwsClientSkew, S3RequestTimeTooSkewedBehind) {
  SkewedServer s(-7200, 403,
                 "<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the "
                 "request time and the current time is too large.</Message></Error>",
                 "<ListBucketResult></ListBucketResult>");
  AwsClient client(config(s.server), creds());
  HttpResponse r = client.s3("GET", "b", "", {{"list-type", "2"}});
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(s.dates.size(), 2u);
  EXPECT_NEAR(s.dates[1], -7200, 5);
}

TEST(AwsClientSkew, CorrectedOnceOnly) {
  // A server that always says the signature expired: one re-sign, then the error stands.
  std::atomic<int> hits{0};
  TestHttpServer server([&](const ReceivedRequest&) {
    ++hits;
    CannedResponse c;
    c.status = 400;
    c.headers = {{"Date", http_date(std::time(nullptr) + 3600)}};
    c.body = R"({"__type":"com.amazon.coral.service#InvalidSignatureException","message":"Signature expired: x"})";
    return c;
  });
  AwsClient client(config(server), creds());
  try {
    client.dynamodb("DescribeTable", R"({"TableName":"t"})");
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kAuth);
    EXPECT_NE(std::string(e.what()).find("Signature expired"), std::string::npos) << e.what();
  }
  EXPECT_EQ(hits.load(), 2);
}

TEST(AwsClientSkew, OtherSignatureErrorsAreNotSkew) {
  std::atomic<int> hits{0};
  TestHttpServer server([&](const ReceivedRequest&) {
    ++hits;
    CannedResponse c;
    c.status = 400;
    c.headers = {{"Date", http_date(std::time(nullptr) + 3600)}};
    c.body = R"({"__type":"com.amazon.coral.service#InvalidSignatureException","message":"The request signature we calculated does not match"})";
    return c;
  });
  AwsClient client(config(server), creds());
  EXPECT_THROW(client.dynamodb("DescribeTable", R"({"TableName":"t"})"), Error);
  EXPECT_EQ(hits.load(), 1);
}

// Answers whatever arrives on each connection with a plain-HTTP line and closes: to a TLS
// client that is not a ServerHello, so the handshake fails.
class PlainTextListener {
 public:
  PlainTextListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("listener: bind/listen failed");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      while (true) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        ++connections;
        char buf[512];
        (void)::recv(c, buf, sizeof buf, 0);
        const char reply[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        (void)::send(c, reply, sizeof reply - 1, MSG_NOSIGNAL);
        ::close(c);
      }
    });
  }
  ~PlainTextListener() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::atomic<int> connections{0};

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST(AwsClientFailFast, TlsErrorIsNotRetried) {
  PlainTextListener listener;
  ServiceConfig c;
  c.region = "us-east-1";
  c.endpoint_url = "https://127.0.0.1:" + std::to_string(listener.port());
  c.http.connect_timeout_ms = 3000;
  c.http.total_timeout_ms = 5000;
  c.retry.max_attempts = 5;
  c.retry.base_delay_seconds = 0.001;
  CallStats stats;
  AwsClient client(c, creds(), &stats);
  try {
    client.dynamodb("DescribeTable", R"({"TableName":"t"})");
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNetwork);
    EXPECT_EQ(std::string(e.what()).rfind("transport tls", 0), 0u) << e.what();
    EXPECT_NE(std::string(e.what()).find("not retried"), std::string::npos) << e.what();
  }
  EXPECT_EQ(stats.requests.load(), 1u);
  EXPECT_EQ(stats.retries.load(), 0u);
  EXPECT_EQ(listener.connections.load(), 1);
}

TEST(AwsClientFailFast, DnsErrorIsNotRetried) {
  ServiceConfig c;
  c.region = "us-east-1";
  c.endpoint_url = "http://no-such-host.invalid:8000";  // RFC 6761: never resolves
  c.retry.max_attempts = 5;
  c.http.connect_timeout_ms = 5000;
  CallStats stats;
  AwsClient client(c, creds(), &stats);
  try {
    client.dynamodb("DescribeTable", R"({"TableName":"t"})");
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNetwork);
    EXPECT_EQ(std::string(e.what()).rfind("transport dns", 0), 0u) << e.what();
  }
  EXPECT_EQ(stats.requests.load(), 1u);
  EXPECT_EQ(stats.retries.load(), 0u);
}

}  // namespace
}  // namespace ttla::aws
