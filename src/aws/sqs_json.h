#pragma once
// Pure SQS pieces (no I/O): what a queue URL names, the JSON 1.0 request bodies the sqs source
// sends and parsers of their answers. The parsers throw ttla::Error(kParse) on a body that is
// not the expected JSON or lacks a count.
#include <cstdint>
#include <string>
#include <string_view>

namespace ttla::sqs {

// What a queue URL says: https://sqs.<region>.amazonaws.com/<account>/<name> (region empty when
// the host does not name one, as on a local server or the legacy queue.amazonaws.com).
struct QueueRef {
  std::string url;
  std::string account;
  std::string name;
  std::string region;
};
// Throws ttla::Error(kConfig) when the URL has no /<account>/<name> path.
QueueRef parse_queue_url(const std::string& url);

struct QueueDepth {
  uint64_t visible = 0;    // ApproximateNumberOfMessages
  uint64_t in_flight = 0;  // ApproximateNumberOfMessagesNotVisible
  uint64_t delayed = 0;    // ApproximateNumberOfMessagesDelayed
};

// Request bodies and parsers of the answers.
std::string get_queue_attributes_body(const std::string& queue_url);
QueueDepth parse_get_queue_attributes(std::string_view body);
std::string get_queue_url_body(const std::string& queue_name, const std::string& account);
std::string parse_get_queue_url(std::string_view body);

}  // namespace ttla::sqs
