// Retry classification, AWS error-body parsing and the standard-mode policy (seeded).
#include "aws/error_body.h"
#include "aws/retry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <atomic>
#include <set>
#include <thread>
#include <vector>

namespace ttla::aws {
namespace {

TEST(Classify, ThrottlingCodesFromDomainFacts) {
  for (const char* code :
       {"ProvisionedThroughputExceededException", "ThrottlingException", "Throttling",
        "RequestLimitExceeded", "LimitExceededException", "SlowDown", "RequestThrottled",
        "TooManyRequestsException", "ThrottledException", "RequestThrottledException"}) {
    EXPECT_EQ(classify(false, 400, code), RetryClass::kThrottling) << code;
  }
  EXPECT_EQ(classify(false, 503, "SlowDown"), RetryClass::kThrottling);  // S3 throttles with 503
  EXPECT_EQ(classify(false, 429, ""), RetryClass::kThrottling);
  EXPECT_EQ(classify(false, 429, "SomethingElse"), RetryClass::kThrottling);
}

TEST(Classify, TransientStatusesCodesAndTransport) {
  for (long status : {500L, 502L, 503L, 504L}) {
    EXPECT_EQ(classify(false, status, ""), RetryClass::kTransient) << status;
  }
  EXPECT_EQ(classify(true, 0, ""), RetryClass::kTransient);
  EXPECT_EQ(classify(false, 400, "RequestTimeout"), RetryClass::kTransient);
  EXPECT_EQ(classify(false, 500, "InternalError"), RetryClass::kTransient);
  EXPECT_EQ(classify(false, 503, "ServiceUnavailable"), RetryClass::kTransient);
  EXPECT_EQ(classify(false, 400, "IDPCommunicationError"), RetryClass::kTransient);
}

TEST(Classify, FatalEverythingElse) {
  for (const char* code : {"ValidationException", "ResourceNotFoundException",
                           "AccessDeniedException", "UnrecognizedClientException",
                           "InvalidSignatureException", "NoSuchBucket", "SignatureDoesNotMatch"}) {
    EXPECT_EQ(classify(false, 400, code), RetryClass::kFatal) << code;
  }
  for (long status : {301L, 400L, 401L, 403L, 404L, 409L, 501L, 505L}) {
    EXPECT_EQ(classify(false, status, ""), RetryClass::kFatal) << status;
  }
  EXPECT_EQ(classify(false, 200, ""), RetryClass::kNone);
  EXPECT_EQ(classify(false, 206, ""), RetryClass::kNone);
}

TEST(ErrorBody, JsonTypeStrippedThroughHash) {
  EXPECT_EQ(aws_error_code(R"({"__type":"com.amazon.coral.availability#ThrottlingException","message":"Rate exceeded"})"),
            "ThrottlingException");
  EXPECT_EQ(aws_error_message(R"({"__type":"com.amazon.coral.availability#ThrottlingException","message":"Rate exceeded"})"),
            "Rate exceeded");
  EXPECT_EQ(aws_error_code(R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","Message":"Requested resource not found"})"),
            "ResourceNotFoundException");
  EXPECT_EQ(aws_error_message(R"({"__type":"x#ResourceNotFoundException","Message":"Requested resource not found"})"),
            "Requested resource not found");
  EXPECT_EQ(aws_error_code(R"({"__type":"ValidationException"})"), "ValidationException");
  EXPECT_EQ(aws_error_code(R"(  {"__type":"aws#SerializationException:http://internal.amazon.com/coral/"})"),
            "SerializationException");
  EXPECT_EQ(aws_error_code(R"({"TableNames":[]})"), "");
  EXPECT_EQ(aws_error_code("{not json"), "");
  EXPECT_EQ(aws_error_code(""), "");
  EXPECT_EQ(aws_error_code("Service Unavailable"), "");
}

TEST(ErrorBody, XmlCodeAndMessage) {
  const char* s3 =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
      "<Message>Please reduce your request rate.</Message><RequestId>1</RequestId></Error>";
  EXPECT_EQ(aws_error_code(s3), "SlowDown");
  EXPECT_EQ(aws_error_message(s3), "Please reduce your request rate.");
  const char* sts =
      "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
      "<Code>InvalidIdentityToken</Code><Message>Incorrect token audience</Message></Error>"
      "<RequestId>r</RequestId></ErrorResponse>";
  EXPECT_EQ(aws_error_code(sts), "InvalidIdentityToken");
  EXPECT_EQ(aws_error_message(sts), "Incorrect token audience");
  // Escaped entities are decoded by the XML parser.
  EXPECT_EQ(aws_error_message("<Error><Code>X</Code><Message>a &amp; b &lt;c&gt;</Message></Error>"),
            "a & b <c>");
  EXPECT_EQ(aws_error_code("<ListBucketResult><Code>NotAnError</Code></ListBucketResult>"), "");
  EXPECT_EQ(aws_error_code("<Error><Code>broken"), "");
}

RetryOptions small_options() {
  RetryOptions o;
  o.max_attempts = 5;
  o.base_delay_seconds = 0.1;
  o.max_delay_seconds = 1.0;
  o.deadline_seconds = 100;
  o.budget_tokens = 500;
  return o;
}

TEST(RetryPolicy, FullJitterDelaysWithinExponentialBounds) {
  RetryOptions o = small_options();
  o.max_attempts = 100;
  o.budget_tokens = 1 << 30;
  RetryPolicy policy(o, 42);
  for (int attempt = 1; attempt <= 8; ++attempt) {
    double ceiling = std::min(0.1 * std::pow(2.0, attempt - 1), 1.0);
    double max_seen = 0;
    std::set<double> distinct;
    for (int i = 0; i < 200; ++i) {
      auto d = policy.next_delay(attempt, RetryClass::kThrottling, 0, std::nullopt);
      ASSERT_TRUE(d.has_value());
      EXPECT_GE(*d, 0.0);
      EXPECT_LE(*d, ceiling);
      max_seen = std::max(max_seen, *d);
      distinct.insert(*d);
    }
    // Jitter really spreads over the range rather than returning a constant.
    EXPECT_GT(max_seen, ceiling * 0.8) << attempt;
    EXPECT_GT(distinct.size(), 150u);
  }
}

TEST(RetryPolicy, SameSeedSameDelays) {
  RetryPolicy a(small_options(), 7), b(small_options(), 7), c(small_options(), 8);
  auto da = a.next_delay(2, RetryClass::kTransient, 0, std::nullopt);
  auto db = b.next_delay(2, RetryClass::kTransient, 0, std::nullopt);
  auto dc = c.next_delay(2, RetryClass::kTransient, 0, std::nullopt);
  ASSERT_TRUE(da && db && dc);
  EXPECT_EQ(*da, *db);
  EXPECT_NE(*da, *dc);
}

TEST(RetryPolicy, FatalAndNoneNeverRetried) {
  RetryPolicy policy(small_options(), 1);
  EXPECT_FALSE(policy.next_delay(1, RetryClass::kFatal, 0, std::nullopt));
  EXPECT_FALSE(policy.next_delay(1, RetryClass::kFatal, 0, 0.5));
  EXPECT_FALSE(policy.next_delay(1, RetryClass::kNone, 0, std::nullopt));
  EXPECT_EQ(policy.budget(), 500);  // giving up costs nothing
}

TEST(RetryPolicy, MaxAttemptsIncludesTheFirst) {
  RetryPolicy policy(small_options(), 1);
  for (int attempt = 1; attempt < 5; ++attempt) {
    EXPECT_TRUE(policy.next_delay(attempt, RetryClass::kTransient, 0, std::nullopt)) << attempt;
  }
  EXPECT_FALSE(policy.next_delay(5, RetryClass::kTransient, 0, std::nullopt));
}

TEST(RetryPolicy, BudgetExhaustionStopsRetries) {
  RetryOptions o = small_options();
  o.budget_tokens = 23;  // four retries at 5, then 3 left
  RetryPolicy policy(o, 3);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(policy.next_delay(1, RetryClass::kThrottling, 0, std::nullopt)) << i;
  }
  EXPECT_EQ(policy.budget(), 3);
  EXPECT_FALSE(policy.next_delay(1, RetryClass::kThrottling, 0, std::nullopt));
  EXPECT_EQ(policy.budget(), 3);
  // Success refunds: a first-try success adds 1; a success after a retry returns 5.
  policy.on_success();
  EXPECT_EQ(policy.budget(), 4);
  policy.on_success(2);
  EXPECT_EQ(policy.budget(), 9);
  EXPECT_TRUE(policy.next_delay(1, RetryClass::kThrottling, 0, std::nullopt));
  EXPECT_EQ(policy.budget(), 4);
}

TEST(RetryPolicy, TimeoutRetriesCostTen) {
  RetryOptions o = small_options();
  o.budget_tokens = 25;
  RetryPolicy policy(o, 3);
  EXPECT_TRUE(policy.next_delay(1, RetryClass::kTransient, 0, std::nullopt, true));
  EXPECT_TRUE(policy.next_delay(2, RetryClass::kTransient, 0, std::nullopt, true));
  EXPECT_EQ(policy.budget(), 5);
  EXPECT_FALSE(policy.next_delay(3, RetryClass::kTransient, 0, std::nullopt, true));
  EXPECT_TRUE(policy.next_delay(3, RetryClass::kTransient, 0, std::nullopt, false));
  EXPECT_EQ(policy.budget(), 0);
  policy.on_success(3, true);
  EXPECT_EQ(policy.budget(), 10);
}

TEST(RetryPolicy, RefundNeverExceedsInitialBudget) {
  RetryPolicy policy(small_options(), 3);
  for (int i = 0; i < 50; ++i) policy.on_success(3);
  EXPECT_EQ(policy.budget(), 500);
}

TEST(RetryPolicy, RetryAfterUsedAndCapped) {
  RetryPolicy policy(small_options(), 5);
  auto d = policy.next_delay(1, RetryClass::kThrottling, 0, 0.75);
  ASSERT_TRUE(d);
  EXPECT_DOUBLE_EQ(*d, 0.75);  // exactly what the service asked, no jitter
  d = policy.next_delay(1, RetryClass::kThrottling, 0, 30.0);
  ASSERT_TRUE(d);
  EXPECT_DOUBLE_EQ(*d, 1.0);  // capped by max_delay_seconds
}

TEST(RetryPolicy, DeadlineRespected) {
  RetryOptions o = small_options();
  o.deadline_seconds = 10;
  RetryPolicy policy(o, 9);
  // A retry-after that would land past the deadline: give up, take no tokens.
  EXPECT_FALSE(policy.next_delay(1, RetryClass::kThrottling, 9.5, 0.9));
  EXPECT_EQ(policy.budget(), 500);
  EXPECT_TRUE(policy.next_delay(1, RetryClass::kThrottling, 9.0, 0.9));
  EXPECT_FALSE(policy.next_delay(1, RetryClass::kTransient, 10.5, std::nullopt));
  // With jitter: every granted delay keeps elapsed + delay within the deadline.
  RetryOptions wide = small_options();
  wide.max_attempts = 1000;
  wide.budget_tokens = 1 << 30;
  wide.deadline_seconds = 2.0;
  wide.max_delay_seconds = 1.0;
  RetryPolicy jitter(wide, 11);
  int granted = 0, refused = 0;
  for (int i = 0; i < 500; ++i) {
    auto delay = jitter.next_delay(10, RetryClass::kTransient, 1.5, std::nullopt);
    if (delay) {
      ++granted;
      EXPECT_LE(1.5 + *delay, 2.0);
    } else {
      ++refused;
    }
  }
  EXPECT_GT(granted, 100);
  EXPECT_GT(refused, 100);
}

TEST(RetryPolicy, SharedAcrossThreadsKeepsBudgetConsistent) {
  RetryOptions o = small_options();
  o.budget_tokens = 5 * 1000;
  o.max_attempts = 10;
  RetryPolicy policy(o, 13);
  std::vector<std::thread> threads;
  std::atomic<int> granted{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 400; ++i) {
        if (policy.next_delay(1, RetryClass::kThrottling, 0, std::nullopt)) ++granted;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 1000);
  EXPECT_EQ(policy.budget(), 0);
}

}  // namespace
}  // namespace ttla::aws
