#pragma once
// The one parser of AWS error bodies, whatever the protocol (pure, no I/O):
//   JSON (DynamoDB, SQS): {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
//                          "message": "..."}  (also "code"/"Code", "Message"/"errorMessage")
//   XML  (S3):            <Error><Code/><Message/><Region/><Endpoint/>…</Error>
//   XML  (STS, query):    <ErrorResponse><Error><Code/><Message/></Error></ErrorResponse>
// Element names are matched without namespace prefixes; a UTF-8 byte order mark and white
// space before the document are skipped.
#include <optional>
#include <string>
#include <string_view>

namespace ttla::aws {

struct ErrorBody {
  std::string code;      // short form: "ThrottlingException", "SlowDown" (namespace dropped)
  std::string message;
  std::string region;    // XML <Region> (S3 400 AuthorizationHeaderMalformed names the bucket's)
  std::string endpoint;  // XML <Endpoint> (S3 301 PermanentRedirect)
};

// The error a body carries. nullopt when it is not an error document: XML without an Error
// element (a success document that happens to hold <Code> is not one), JSON without any of the
// code or message members, or anything else.
std::optional<ErrorBody> parse_error_body(std::string_view body);

// parse_error_body's code or message; "" when none.
std::string aws_error_code(std::string_view body);
std::string aws_error_message(std::string_view body);

// "Code: message (HTTP 403)", with "HttpError" / "no error message" for what the body lacks.
std::string describe_error(long status, std::string_view body);

}  // namespace ttla::aws
