// AwsClient is the only code that builds AWS requests: writes are refused before any I/O (the
// loopback server must see nothing), reads go out signed with the right protocol headers, errors
// map to the right ErrorKind, and debug logs never carry secrets.
#include <gtest/gtest.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <ctime>
#include <iomanip>
#include <memory>
#include <sstream>
#include <string>

#include "aws/aws_client.h"
#include "aws/sigv4.h"
#include "core/error.h"
#include "support/test_http_server.h"

using namespace ttla::aws;
using ttla::Error;
using ttla::ErrorKind;
using ttla::testing::CannedResponse;
using ttla::testing::ReceivedRequest;
using ttla::testing::TestHttpServer;

namespace {

constexpr const char* kAccessKey = "AKIDREADONLYTEST";
constexpr const char* kSecret = "s3cr3t/Key+ThatMustNeverBeLogged0123456789";
constexpr const char* kToken = "SESSIONTOKEN-must-never-appear-in-logs/abc+def==";

// Our own provider so the test depends only on the CredentialsProvider interface; it counts
// calls to prove refused operations never even fetch credentials.
class CountingProvider : public CredentialsProvider {
 public:
  Credentials get() override {
    ++calls;
    return Credentials{kAccessKey, kSecret, kToken, std::nullopt, "test"};
  }
  std::atomic<int> calls{0};
};

ServiceConfig config_for(const TestHttpServer& server) {
  ServiceConfig c;
  c.region = "us-east-1";
  c.endpoint_url = server.url("");
  c.retry.max_attempts = 3;
  c.retry.base_delay_seconds = 0.001;
  c.retry.max_delay_seconds = 0.01;
  c.http.connect_timeout_ms = 2000;
  c.http.total_timeout_ms = 5000;
  return c;
}

ErrorKind kind_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  ADD_FAILURE() << "expected ttla::Error";
  return ErrorKind::kInternal;
}

int64_t parse_amz_date(const std::string& ts) {
  std::tm tm{};
  std::istringstream in(ts);
  in >> std::get_time(&tm, "%Y%m%dT%H%M%SZ");
  return static_cast<int64_t>(timegm(&tm));
}

// Recomputes the signature from what actually reached the server: proves the wire request is
// the signed one (same path, query, headers, body).
std::string resign(const ReceivedRequest& r, const std::string& service, bool s3,
                   const std::vector<std::string>& signed_header_names) {
  sigv4::Request req;
  req.method = r.method;
  std::string target = r.target;
  size_t q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) {
    // Values in our tests are ASCII-or-%XX; decode %XX so the signer re-encodes them.
    std::string qs = target.substr(q + 1);
    auto decode = [](const std::string& s) {
      std::string out;
      for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
          out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
          i += 2;
        } else {
          out.push_back(s[i]);
        }
      }
      return out;
    };
    size_t pos = 0;
    while (pos <= qs.size()) {
      size_t amp = qs.find('&', pos);
      if (amp == std::string::npos) amp = qs.size();
      std::string pair = qs.substr(pos, amp - pos);
      size_t eq = pair.find('=');
      req.query.emplace_back(decode(pair.substr(0, eq)),
                             eq == std::string::npos ? "" : decode(pair.substr(eq + 1)));
      pos = amp + 1;
    }
  }
  for (const auto& name : signed_header_names) {
    if (name == "x-amz-date" || name == "x-amz-security-token" || name == "x-amz-content-sha256") {
      continue;  // the signer adds these itself
    }
    req.headers.emplace_back(name, r.headers.at(name));
  }
  req.body = r.body;
  sigv4::Options o;
  o.region = "us-east-1";
  o.service = service;
  o.s3_rules = s3;
  o.epoch_seconds = parse_amz_date(r.headers.at("x-amz-date"));
  Credentials c{kAccessKey, kSecret, kToken, std::nullopt, "test"};
  return sigv4::sign(req, c, o).signature;
}

std::vector<std::string> signed_headers_of(const std::string& authorization) {
  std::vector<std::string> out;
  size_t at = authorization.find("SignedHeaders=");
  size_t end = authorization.find(',', at);
  std::string list = authorization.substr(at + 14, end - at - 14);
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ';')) out.push_back(item);
  return out;
}

std::string signature_of(const std::string& authorization) {
  return authorization.substr(authorization.find("Signature=") + 10);
}

}  // namespace

TEST(AwsClientReadOnly, DynamoDbWritesAreRefusedBeforeAnyIo) {
  TestHttpServer server([](const ReceivedRequest&) { return CannedResponse{200, {}, "{}"}; });
  auto creds = std::make_shared<CountingProvider>();
  CallStats stats;
  AwsClient client(config_for(server), creds, &stats);
  for (const char* op : {"PutItem", "DeleteItem", "UpdateItem", "BatchWriteItem", "UpdateTimeToLive",
                         "DeleteTable", "CreateTable", "UpdateTable", "TransactWriteItems",
                         "ExecuteStatement", "RestoreTableFromBackup", "scan", "Scan ", ""}) {
    std::string message;
    EXPECT_EQ(kind_of([&] { client.dynamodb(op, R"({"TableName":"t"})"); }, &message),
              ErrorKind::kForbidden)
        << op;
    EXPECT_FALSE(is_allowed_dynamodb_operation(op)) << op;
  }
  EXPECT_EQ(server.request_count(), 0u);
  EXPECT_EQ(server.connection_count(), 0);
  EXPECT_EQ(creds->calls.load(), 0);
  EXPECT_EQ(stats.requests.load(), 0u);
}

TEST(AwsClientReadOnly, S3AndCloudWatchWritesAreRefusedBeforeAnyIo) {
  TestHttpServer server([](const ReceivedRequest&) { return CannedResponse{200, {}, ""}; });
  auto creds = std::make_shared<CountingProvider>();
  AwsClient client(config_for(server), creds);
  for (const char* method : {"PUT", "DELETE", "POST", "PATCH", "get", "OPTIONS", ""}) {
    EXPECT_EQ(kind_of([&] { client.s3(method, "bucket", "key", {}); }), ErrorKind::kForbidden)
        << method;
  }
  EXPECT_EQ(kind_of([&] { client.s3("POST", "bucket", "", {{"delete", ""}}); }),
            ErrorKind::kForbidden);
  for (const char* action : {"PutMetricData", "PutMetricAlarm", "DeleteAlarms", "GetMetricStatistics"}) {
    EXPECT_EQ(kind_of([&] { client.cloudwatch(action, {}); }), ErrorKind::kForbidden) << action;
  }
  // STS: only the calls that obtain credentials (AssumeRole for role_arn profiles and targets).
  EXPECT_TRUE(is_allowed_sts_operation("AssumeRoleWithWebIdentity"));
  EXPECT_TRUE(is_allowed_sts_operation("AssumeRole"));
  for (const char* action : {"GetCallerIdentity", "AssumeRoleWithSAML", "GetSessionToken",
                             "DecodeAuthorizationMessage", "SetSourceIdentity"}) {
    EXPECT_FALSE(is_allowed_sts_operation(action)) << action;
    EXPECT_EQ(kind_of([&] { client.sts(action, {}); }), ErrorKind::kForbidden) << action;
  }
  EXPECT_EQ(server.request_count(), 0u);
  EXPECT_EQ(creds->calls.load(), 0);
}

TEST(AwsClientReadOnly, AllowedDynamoDbReadIsSignedWithProtocolHeaders) {
  TestHttpServer server([](const ReceivedRequest&) {
    return CannedResponse{200, {{"Content-Type", "application/x-amz-json-1.0"}}, R"({"Count":0})"};
  });
  auto creds = std::make_shared<CountingProvider>();
  CallStats stats;
  AwsClient client(config_for(server), creds, &stats);
  for (const auto& op : allowed_dynamodb_operations()) {
    EXPECT_EQ(client.dynamodb(op, R"({"TableName":"events"})"), R"({"Count":0})") << op;
  }
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), allowed_dynamodb_operations().size());
  EXPECT_EQ(stats.requests.load(), reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    const auto& r = reqs[i];
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/");
    EXPECT_EQ(r.headers.at("content-type"), "application/x-amz-json-1.0");
    EXPECT_EQ(r.headers.at("x-amz-target"), "DynamoDB_20120810." + allowed_dynamodb_operations()[i]);
    EXPECT_EQ(r.headers.at("x-amz-security-token"), kToken);
    EXPECT_EQ(r.headers.at("host"), "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_EQ(r.body, R"({"TableName":"events"})");
    const std::string& authz = r.headers.at("authorization");
    std::string date = r.headers.at("x-amz-date").substr(0, 8);
    EXPECT_EQ(authz.rfind(std::string("AWS4-HMAC-SHA256 Credential=") + kAccessKey + "/" + date +
                              "/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;"
                              "x-amz-date;x-amz-security-token;x-amz-target, Signature=",
                          0),
              0u)
        << authz;
    EXPECT_EQ(signature_of(authz), resign(r, "dynamodb", false, signed_headers_of(authz)));
  }
}

TEST(AwsClientReadOnly, AllowedS3ReadsArePathStyleSignedAndKeyEncodedOnce) {
  TestHttpServer server([](const ReceivedRequest& r) {
    if (r.method == "HEAD") return CannedResponse{200, {{"Content-Length", "7"}}, ""};
    return CannedResponse{200, {{"Content-Type", "application/xml"}}, "<ListBucketResult/>"};
  });
  AwsClient client(config_for(server), std::make_shared<CountingProvider>());
  HttpResponse list = client.s3("GET", "my-bucket", "", {{"list-type", "2"}, {"prefix", "dir/a b"}});
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(list.body, "<ListBucketResult/>");
  HttpResponse head = client.s3("HEAD", "my-bucket", "dir/a b/\xE1\x88\xB4+x.txt", {});
  EXPECT_EQ(head.status, 200);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].target, "/my-bucket?list-type=2&prefix=dir%2Fa%20b");
  EXPECT_EQ(reqs[1].method, "HEAD");
  EXPECT_EQ(reqs[1].target, "/my-bucket/dir/a%20b/%E1%88%B4%2Bx.txt");
  for (const auto& r : reqs) {
    EXPECT_EQ(r.headers.at("x-amz-content-sha256"),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const std::string& authz = r.headers.at("authorization");
    EXPECT_NE(authz.find("/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;"
                         "x-amz-date;x-amz-security-token, "),
              std::string::npos)
        << authz;
    EXPECT_EQ(signature_of(authz), resign(r, "s3", true, signed_headers_of(authz)));
  }
}

TEST(AwsClientReadOnly, S3VirtualHostedOnACustomEndpointWhenPathStyleIsOff) {
  // path_style: false with endpoint_url: bucket.<endpoint host> (libcurl resolves *.localhost
  // to the loopback address); the Host header is part of what is signed.
  TestHttpServer server([](const ReceivedRequest&) {
    return CannedResponse{200, {{"Content-Type", "application/xml"}}, "<ListBucketResult/>"};
  });
  ServiceConfig c = config_for(server);
  c.endpoint_url = "http://localhost:" + std::to_string(server.port());
  c.s3_path_style = false;
  AwsClient vhost(c, std::make_shared<CountingProvider>());
  EXPECT_EQ(vhost.s3("GET", "my-bucket", "k/./x", {{"versioning", ""}}).status, 200);
  // Default with an endpoint: path style.
  c.s3_path_style.reset();
  AwsClient path(c, std::make_shared<CountingProvider>());
  EXPECT_EQ(path.s3("GET", "my-bucket", "", {{"versioning", ""}}).status, 200);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].headers.at("host"), "my-bucket.localhost:" + std::to_string(server.port()));
  EXPECT_EQ(reqs[0].target, "/k/./x?versioning=");
  EXPECT_EQ(reqs[1].headers.at("host"), "localhost:" + std::to_string(server.port()));
  EXPECT_EQ(reqs[1].target, "/my-bucket?versioning=");
  for (const auto& r : reqs) {
    const std::string& authz = r.headers.at("authorization");
    EXPECT_EQ(signature_of(authz), resign(r, "s3", true, signed_headers_of(authz)));
  }
}

TEST(AwsClientReadOnly, ErrorsMapToKindsWithCodeMessageAndStatus) {
  std::atomic<int> calls{0};
  TestHttpServer server([&](const ReceivedRequest& r) {
    ++calls;
    std::string target = r.headers.count("x-amz-target") ? r.headers.at("x-amz-target") : "";
    if (target.find("DescribeTable") != std::string::npos) {
      return CannedResponse{400, {}, R"({"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"The security token included in the request is invalid."})"};
    }
    if (target.find("DescribeTimeToLive") != std::string::npos) {
      return CannedResponse{400, {}, R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"})"};
    }
    if (target.find("Scan") != std::string::npos) {
      return CannedResponse{400, {{"x-amz-retry-after", "1"}}, R"({"__type":"com.amazon.coral.availability#ThrottlingException","message":"Rate exceeded"})"};
    }
    if (r.method == "GET") {
      return CannedResponse{403, {}, "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error>"};
    }
    return CannedResponse{404, {}, ""};
  });
  CallStats stats;
  AwsClient client(config_for(server), std::make_shared<CountingProvider>(), &stats);
  std::string msg;
  EXPECT_EQ(kind_of([&] { client.dynamodb("DescribeTable", "{}"); }, &msg), ErrorKind::kAuth);
  EXPECT_EQ(msg, "UnrecognizedClientException: The security token included in the request is "
                 "invalid. (HTTP 400)");
  EXPECT_EQ(kind_of([&] { client.dynamodb("DescribeTimeToLive", "{}"); }, &msg), ErrorKind::kHttp);
  EXPECT_EQ(msg, "ResourceNotFoundException: Requested resource not found (HTTP 400)");
  EXPECT_EQ(stats.requests.load(), 2u);  // neither is retried

  EXPECT_EQ(kind_of([&] { client.dynamodb("Scan", "{}"); }, &msg), ErrorKind::kThrottled);
  EXPECT_EQ(msg.rfind("ThrottlingException: Rate exceeded (HTTP 400)", 0), 0u) << msg;
  EXPECT_EQ(stats.requests.load(), 5u);  // 3 attempts
  EXPECT_EQ(stats.throttles.load(), 3u);
  EXPECT_EQ(stats.retries.load(), 2u);

  EXPECT_EQ(kind_of([&] { client.s3("GET", "b", "k", {}); }, &msg), ErrorKind::kAuth);
  EXPECT_EQ(msg.rfind("SignatureDoesNotMatch: The request signature", 0), 0u) << msg;
  // 404 is an ordinary S3 answer, returned not thrown.
  EXPECT_EQ(client.s3("HEAD", "b", "missing", {}).status, 404);
}

TEST(AwsClientReadOnly, TransientErrorsAreRetriedThenSucceed) {
  std::atomic<int> calls{0};
  TestHttpServer server([&](const ReceivedRequest&) {
    if (calls++ == 0) return CannedResponse{503, {}, "<Error><Code>SlowDown</Code></Error>"};
    return CannedResponse{200, {}, "{}"};
  });
  CallStats stats;
  AwsClient client(config_for(server), std::make_shared<CountingProvider>(), &stats);
  EXPECT_EQ(client.dynamodb("ListTables", "{}"), "{}");
  EXPECT_EQ(stats.requests.load(), 2u);
  EXPECT_EQ(stats.retries.load(), 1u);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  // Each attempt is signed afresh.
  EXPECT_TRUE(reqs[1].headers.count("authorization"));
}

TEST(AwsClientReadOnly, DebugLogNeverContainsSecretTokenOrSignature) {
  TestHttpServer server([](const ReceivedRequest&) { return CannedResponse{200, {}, "{}"}; });
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  auto logger = std::make_shared<spdlog::logger>("capture", sink);
  logger->set_level(spdlog::level::trace);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);

  {
    AwsClient client(config_for(server), std::make_shared<CountingProvider>());
    client.dynamodb("Scan", R"({"TableName":"events"})");
    client.s3("GET", "bucket", "some key", {{"list-type", "2"}});
  }
  logger->flush();
  spdlog::set_default_logger(previous);

  std::string log = captured.str();
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  // The log does describe the requests...
  EXPECT_NE(log.find("op=Scan"), std::string::npos) << log;
  EXPECT_NE(log.find("status=200"), std::string::npos) << log;
  EXPECT_NE(log.find("attempt=1"), std::string::npos) << log;
  EXPECT_NE(log.find("host=127.0.0.1:" + std::to_string(server.port())), std::string::npos) << log;
  // ...and leaks nothing that authenticates them.
  EXPECT_EQ(log.find(kSecret), std::string::npos);
  EXPECT_EQ(log.find(kToken), std::string::npos);
  for (const auto& r : reqs) {
    std::string sig = signature_of(r.headers.at("authorization"));
    ASSERT_EQ(sig.size(), 64u);
    EXPECT_EQ(log.find(sig), std::string::npos);
  }
  EXPECT_EQ(log.find("AWS4-HMAC-SHA256"), std::string::npos);
  EXPECT_EQ(log.find("uthorization"), std::string::npos);
  EXPECT_EQ(log.find("ecurity-token"), std::string::npos);
}

TEST(AwsClientReadOnly, SqsSendsOnlyAttributeReadsSignedForSqs) {
  TestHttpServer server([](const ReceivedRequest&) {
    return CannedResponse{200, {{"Content-Type", "application/x-amz-json-1.0"}}, R"({"Attributes":{}})"};
  });
  auto creds = std::make_shared<CountingProvider>();
  AwsClient client(config_for(server), creds);
  // Anything that would receive, delete, send or change a queue is refused before any I/O.
  for (const char* op : {"ReceiveMessage", "DeleteMessage", "DeleteMessageBatch", "SendMessage",
                         "PurgeQueue", "SetQueueAttributes", "CreateQueue", "DeleteQueue",
                         "ChangeMessageVisibility", "StartMessageMoveTask", "getqueueattributes", ""}) {
    EXPECT_EQ(kind_of([&] { client.sqs(op, "{}"); }), ErrorKind::kForbidden) << op;
    EXPECT_FALSE(is_allowed_sqs_operation(op)) << op;
  }
  EXPECT_EQ(server.request_count(), 0u);
  EXPECT_EQ(creds->calls.load(), 0);

  for (const char* op : {"GetQueueAttributes", "GetQueueUrl"}) {
    EXPECT_EQ(client.sqs(op, R"({"QueueUrl":"q"})"), R"({"Attributes":{}})") << op;
  }
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  const char* ops[] = {"GetQueueAttributes", "GetQueueUrl"};
  for (size_t i = 0; i < reqs.size(); ++i) {
    const auto& r = reqs[i];
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/");
    EXPECT_EQ(r.headers.at("content-type"), "application/x-amz-json-1.0");
    EXPECT_EQ(r.headers.at("x-amz-target"), std::string("AmazonSQS.") + ops[i]);
    const std::string& authz = r.headers.at("authorization");
    EXPECT_NE(authz.find("/us-east-1/sqs/aws4_request"), std::string::npos) << authz;
    EXPECT_EQ(signature_of(authz), resign(r, "sqs", false, signed_headers_of(authz)));
  }
}
