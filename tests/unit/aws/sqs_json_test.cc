// The pure SQS pieces: queue URLs, the GetQueueAttributes / GetQueueUrl JSON answers (as AWS's
// JSON protocol sends them: every attribute a string) and the request bodies.
#include "aws/sqs_json.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace ttla {
namespace {

TEST(SqsQueueUrl, NamesRegionAccountAndQueue) {
  const auto q = sqs::parse_queue_url("https://sqs.eu-west-2.amazonaws.com/123456789012/cleanup-dlq");
  EXPECT_EQ(q.region, "eu-west-2");
  EXPECT_EQ(q.account, "123456789012");
  EXPECT_EQ(q.name, "cleanup-dlq");
  const auto cn = sqs::parse_queue_url("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q.fifo");
  EXPECT_EQ(cn.region, "cn-north-1");
  EXPECT_EQ(cn.name, "q.fifo");
  // A local server or the legacy host names no region: the configuration decides.
  const auto local = sqs::parse_queue_url("http://127.0.0.1:5000/123456789012/q/");
  EXPECT_EQ(local.region, "");
  EXPECT_EQ(local.name, "q");
  EXPECT_EQ(sqs::parse_queue_url("https://queue.amazonaws.com/123456789012/q").region, "");
}

TEST(SqsQueueUrl, PortsAndIpv6LiteralsOfLocalServers) {
  const auto v6 = sqs::parse_queue_url("http://[::1]:9324/000000000000/dlq");
  EXPECT_EQ(v6.account, "000000000000");
  EXPECT_EQ(v6.name, "dlq");
  EXPECT_EQ(v6.region, "");
  EXPECT_EQ(v6.url, "http://[::1]:9324/000000000000/dlq");  // kept as configured
}

TEST(SqsQueueUrl, RejectsUrlsWithoutAccountAndName) {
  for (const char* bad : {"sqs.us-east-1.amazonaws.com/1/q", "https://sqs.us-east-1.amazonaws.com/",
                          "https://sqs.us-east-1.amazonaws.com/q", "https://h/1/q/extra", "ftp://h/1/q",
                          "http://h:99999/1/q"}) {
    EXPECT_THROW(sqs::parse_queue_url(bad), Error) << bad;
  }
}

TEST(SqsAttributes, ParsesTheThreeCounts) {
  const auto d = sqs::parse_get_queue_attributes(
      R"({"Attributes":{"ApproximateNumberOfMessages":"53","ApproximateNumberOfMessagesNotVisible":"7",)"
      R"("ApproximateNumberOfMessagesDelayed":"4"}})");
  EXPECT_EQ(d.visible, 53u);
  EXPECT_EQ(d.in_flight, 7u);
  EXPECT_EQ(d.delayed, 4u);
}

TEST(SqsAttributes, MissingOrMalformedCountsAreParseErrors) {
  for (const char* bad :
       {"not json", "[]", R"({"Attributes":{}})",
        R"({"Attributes":{"ApproximateNumberOfMessages":"x","ApproximateNumberOfMessagesNotVisible":"0","ApproximateNumberOfMessagesDelayed":"0"}})",
        R"({"Attributes":{"ApproximateNumberOfMessages":"-1","ApproximateNumberOfMessagesNotVisible":"0","ApproximateNumberOfMessagesDelayed":"0"}})",
        R"({"Attributes":{"ApproximateNumberOfMessages":"1","ApproximateNumberOfMessagesNotVisible":"0"}})"}) {
    try {
      sqs::parse_get_queue_attributes(bad);
      ADD_FAILURE() << "no error for " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kParse) << bad;
    }
  }
}

TEST(SqsRequests, BodiesAskForExactlyWhatIsRead) {
  const auto body = nlohmann::json::parse(sqs::get_queue_attributes_body("https://x/1/q"));
  EXPECT_EQ(body["QueueUrl"], "https://x/1/q");
  EXPECT_EQ(body["AttributeNames"],
            nlohmann::json({"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                            "ApproximateNumberOfMessagesDelayed"}));
  EXPECT_EQ(nlohmann::json::parse(sqs::get_queue_url_body("q", "")),
            nlohmann::json({{"QueueName", "q"}}));
  EXPECT_EQ(nlohmann::json::parse(sqs::get_queue_url_body("q", "210987654321"))["QueueOwnerAWSAccountId"],
            "210987654321");
  EXPECT_EQ(sqs::parse_get_queue_url(R"({"QueueUrl":"https://x/1/q"})"), "https://x/1/q");
  EXPECT_THROW(sqs::parse_get_queue_url(R"({"QueueUrl":""})"), Error);
}

}  // namespace
}  // namespace ttla
