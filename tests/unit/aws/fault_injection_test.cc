// AwsClient's retry loop end to end against a real loopback server that misbehaves on purpose:
// 5xx, throttling bodies, connection resets, stalls past the timeout, then success.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>

#include "aws/aws_client.h"
#include "core/error.h"
#include "support/test_http_server.h"

namespace ttla::aws {
namespace {

using ttla::testing::CannedResponse;
using ttla::testing::ReceivedRequest;
using ttla::testing::TestHttpServer;

constexpr const char* kThrottleBody =
    R"({"__type":"com.amazon.coral.availability#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."})";
constexpr const char* kScanOk = R"({"Count":1,"Items":[{"pk":{"S":"a"}}],"ScannedCount":1})";

class FaultInjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Loopback traffic must not wander off to a developer's proxy.
    for (const char* n : {"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"}) {
      const char* v = std::getenv(n);
      saved_[n] = v ? std::optional<std::string>(v) : std::nullopt;
      ::unsetenv(n);
    }
  }
  void TearDown() override {
    for (auto& [n, v] : saved_) {
      if (v) ::setenv(n.c_str(), v->c_str(), 1);
    }
  }

  static ServiceConfig config_for(const TestHttpServer& server, int max_attempts) {
    ServiceConfig c;
    c.region = "us-east-1";
    c.endpoint_url = server.url("");
    c.http.connect_timeout_ms = 1000;
    c.http.total_timeout_ms = 250;  // the stall step waits far longer than this
    c.retry.max_attempts = max_attempts;
    c.retry.base_delay_seconds = 0.001;
    c.retry.max_delay_seconds = 0.01;
    c.retry.deadline_seconds = 30;
    return c;
  }
  static std::shared_ptr<CredentialsProvider> creds() {
    Credentials c;
    c.access_key_id = "AKIDEXAMPLE";
    c.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    return make_static_provider(c);
  }

  std::map<std::string, std::optional<std::string>> saved_;
};

TEST_F(FaultInjectionTest, SurvivesEveryFaultThenSucceeds) {
  std::atomic<int> n{0};
  TestHttpServer server([&](const ReceivedRequest&) {
    CannedResponse r;
    r.headers = {{"Content-Type", "application/x-amz-json-1.0"}};
    switch (++n) {
      case 1:
        r.status = 503;
        r.body = "";
        break;
      case 2:
        r.status = 400;
        r.body = kThrottleBody;
        // Close after this answer so the reset below lands on a fresh connection: on a reused
        // one libcurl would silently resend the request itself (keep-alive race handling).
        r.headers.emplace_back("Connection", "close");
        break;
      case 3:
        r.reset_connection = true;
        break;
      case 4:
        r.stall_ms = 1500;
        r.body = kScanOk;
        break;
      default:
        r.body = kScanOk;
        break;
    }
    return r;
  });
  CallStats stats;
  AwsClient client(config_for(server, 6), creds(), &stats);
  auto start = std::chrono::steady_clock::now();
  std::string body = client.dynamodb("Scan", R"({"TableName":"t"})");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  EXPECT_EQ(body, kScanOk);
  EXPECT_EQ(stats.requests.load(), 5u);
  EXPECT_EQ(stats.retries.load(), 4u);
  EXPECT_EQ(stats.throttles.load(), 1u);  // only the ThrottlingException; 503 is transient
  EXPECT_LT(seconds, 1.4);                // the stall was cut by the timeout, not waited out

  auto got = server.requests();
  ASSERT_EQ(got.size(), 5u);
  for (const auto& r : got) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.headers.at("x-amz-target"), "DynamoDB_20120810.Scan");
    EXPECT_EQ(r.body, R"({"TableName":"t"})");
    EXPECT_EQ(r.headers.at("authorization").rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 0), 0u);
  }
}

TEST_F(FaultInjectionTest, ValidationExceptionIsNotRetried) {
  TestHttpServer server([](const ReceivedRequest&) {
    CannedResponse r;
    r.status = 400;
    r.body = R"({"__type":"com.amazon.coral.validate#ValidationException","message":"1 validation error detected"})";
    return r;
  });
  CallStats stats;
  AwsClient client(config_for(server, 5), creds(), &stats);
  try {
    client.dynamodb("Scan", R"({"TableName":"t"})");
    FAIL() << "expected ttla::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kHttp);
    EXPECT_NE(std::string(e.what()).find("ValidationException"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1 validation error detected"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server.request_count(), 1u);
  EXPECT_EQ(stats.retries.load(), 0u);
}

TEST_F(FaultInjectionTest, ExhaustedThrottlingIsKThrottledWithCode) {
  TestHttpServer server([](const ReceivedRequest&) {
    CannedResponse r;
    r.status = 400;
    r.body = R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"})";
    return r;
  });
  CallStats stats;
  AwsClient client(config_for(server, 3), creds(), &stats);
  try {
    client.dynamodb("Scan", R"({"TableName":"t"})");
    FAIL() << "expected ttla::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kThrottled);
    EXPECT_NE(std::string(e.what()).find("ProvisionedThroughputExceededException"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(server.request_count(), 3u);
  EXPECT_EQ(stats.requests.load(), 3u);
  EXPECT_EQ(stats.retries.load(), 2u);
  EXPECT_EQ(stats.throttles.load(), 3u);
}

TEST_F(FaultInjectionTest, RepeatedResetsBecomeNetworkError) {
  TestHttpServer server([](const ReceivedRequest&) {
    CannedResponse r;
    r.reset_connection = true;
    return r;
  });
  CallStats stats;
  AwsClient client(config_for(server, 3), creds(), &stats);
  try {
    client.dynamodb("DescribeTable", R"({"TableName":"t"})");
    FAIL() << "expected ttla::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNetwork) << e.what();
  }
  EXPECT_EQ(stats.requests.load(), 3u);
  EXPECT_GE(server.request_count(), 3u);  // resets on fresh connections are never resent by curl
}

TEST_F(FaultInjectionTest, LongRetryAfterIsCappedByMaxDelay) {
  std::atomic<int> n{0};
  TestHttpServer server([&](const ReceivedRequest&) {
    CannedResponse r;
    if (++n == 1) {
      r.status = 429;
      r.headers = {{"Retry-After", "30"}};
      return r;
    }
    r.body = kScanOk;
    return r;
  });
  CallStats stats;
  AwsClient client(config_for(server, 3), creds(), &stats);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client.dynamodb("Scan", "{}"), kScanOk);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(stats.throttles.load(), 1u);
}

TEST_F(FaultInjectionTest, WriteOperationNeverLeavesTheProcess) {
  TestHttpServer server([](const ReceivedRequest&) { return CannedResponse{}; });
  AwsClient client(config_for(server, 3), creds());
  try {
    client.dynamodb("DeleteItem", R"({"TableName":"t"})");
    FAIL() << "expected ttla::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kForbidden);
  }
  EXPECT_EQ(server.request_count(), 0u);
}

}  // namespace
}  // namespace ttla::aws
