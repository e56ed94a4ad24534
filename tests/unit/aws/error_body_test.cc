// parse_error_body: the one reader of AWS error bodies, JSON (DynamoDB, SQS) and XML (S3, STS and
// other query-protocol services), and the codes, messages and descriptions built on it.
#include "aws/error_body.h"

#include <gtest/gtest.h>

namespace ttla::aws {
namespace {

TEST(ErrorBodyJson, CodeWithoutNamespaceAndMessage) {
  auto e = parse_error_body(
      R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"no"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "ConditionalCheckFailedException");
  EXPECT_EQ(e->message, "no");
  // SQS (JSON protocol) and the other spellings of the members.
  auto sqs = parse_error_body(
      R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","Message":"The specified queue does not exist."})");
  ASSERT_TRUE(sqs);
  EXPECT_EQ(sqs->code, "QueueDoesNotExist");
  EXPECT_EQ(sqs->message, "The specified queue does not exist.");
  auto plain = parse_error_body(R"({"code":"AccessDenied","errorMessage":"x"})");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->code, "AccessDenied");
  EXPECT_EQ(plain->message, "x");
}

TEST(ErrorBodyJson, SuccessBodiesAreNotErrors) {
  EXPECT_FALSE(parse_error_body(R"({"TableNames":["a"]})"));
  EXPECT_FALSE(parse_error_body(R"([{"__type":"x#Y"}])"));
  EXPECT_FALSE(parse_error_body("{broken"));
}

TEST(ErrorBodyXml, S3AndQueryProtocolShapes) {
  auto s3 = parse_error_body(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AuthorizationHeaderMalformed</Code>"
      "<Message>the region 'us-east-1' is wrong; expecting 'eu-central-1'</Message>"
      "<Region>eu-central-1</Region><RequestId>1</RequestId></Error>");
  ASSERT_TRUE(s3);
  EXPECT_EQ(s3->code, "AuthorizationHeaderMalformed");
  EXPECT_EQ(s3->region, "eu-central-1");
  auto sts = parse_error_body(
      "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
      "<Code>InvalidIdentityToken</Code><Message>expired</Message></Error>"
      "<RequestId>r</RequestId></ErrorResponse>");
  ASSERT_TRUE(sts);
  EXPECT_EQ(sts->code, "InvalidIdentityToken");
  EXPECT_EQ(sts->message, "expired");
  // EC2-style nesting and namespace prefixes.
  auto nested = parse_error_body(
      "<Response><Errors><Error><Code>RequestLimitExceeded</Code></Error></Errors></Response>");
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->code, "RequestLimitExceeded");
  auto prefixed = parse_error_body(
      "<s3:Error xmlns:s3=\"x\"><s3:Code>SlowDown</s3:Code><s3:Endpoint>e</s3:Endpoint></s3:Error>");
  ASSERT_TRUE(prefixed);
  EXPECT_EQ(prefixed->code, "SlowDown");
  EXPECT_EQ(prefixed->endpoint, "e");
}

TEST(ErrorBodyXml, ByteOrderMarkAndWhiteSpaceBeforeTheDocument) {
  auto e = parse_error_body("\xEF\xBB\xBF  \n<Error><Code>InternalError</Code></Error>");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "InternalError");
  auto j = parse_error_body("\r\n {\"__type\":\"ThrottlingException\"}");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->code, "ThrottlingException");
}

TEST(ErrorBodyXml, SuccessDocumentsWithACodeAreNotErrors) {
  EXPECT_FALSE(parse_error_body("<Result><Code>200</Code></Result>"));
  EXPECT_FALSE(parse_error_body("<VersioningConfiguration/>"));
  EXPECT_FALSE(parse_error_body("<Error><Code>x</Code>"));  // not well-formed
  EXPECT_FALSE(parse_error_body("plain text"));
  EXPECT_FALSE(parse_error_body(""));
}

TEST(ErrorBody, CodeMessageAndDescription) {
  const std::string body = "<Error><Code>AccessDenied</Code><Message>nope</Message></Error>";
  EXPECT_EQ(aws_error_code(body), "AccessDenied");
  EXPECT_EQ(aws_error_message(body), "nope");
  EXPECT_EQ(describe_error(403, body), "AccessDenied: nope (HTTP 403)");
  EXPECT_EQ(describe_error(500, ""), "HttpError: no error message (HTTP 500)");
  EXPECT_EQ(describe_error(400, R"({"__type":"a#ValidationException"})"),
            "ValidationException: no error message (HTTP 400)");
}

}  // namespace
}  // namespace ttla::aws
