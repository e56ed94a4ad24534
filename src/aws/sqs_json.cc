#include "aws/sqs_json.h"

#include <cerrno>
#include <cstdlib>
#include <optional>

#include <nlohmann/json.hpp>

#include "aws/url.h"
#include "core/error.h"

namespace ttla::sqs {
namespace {

[[noreturn]] void malformed(const std::string& what) {
  throw Error(ErrorKind::kParse, "sqs: " + what);
}

nlohmann::json parse_object(std::string_view body, const char* operation) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    malformed(std::string(operation) + " answer is not a JSON object");
  }
  return j;
}

// SQS answers every attribute as a string ("12").
uint64_t count_attribute(const nlohmann::json& attributes, const char* name) {
  auto it = attributes.find(name);
  if (it == attributes.end()) malformed(std::string("GetQueueAttributes answer lacks ") + name);
  std::string text = it->is_string() ? it->get<std::string>() : it->dump();
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno != 0 || text[0] == '-') {
    malformed(std::string(name) + " is not a count: \"" + text + "\"");
  }
  return static_cast<uint64_t>(v);
}

}  // namespace

QueueRef parse_queue_url(const std::string& url) {
  const std::optional<aws::Url> parsed = aws::parse_url(url);
  if (!parsed || (parsed->scheme != "https" && parsed->scheme != "http")) {
    throw Error(ErrorKind::kConfig, "queue_url must start with https:// (or http://): " + url);
  }
  const std::string& host = parsed->host;
  std::string rest = parsed->path.substr(1);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t slash = rest.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 >= rest.size() ||
      rest.find('/', slash + 1) != std::string::npos) {
    throw Error(ErrorKind::kConfig,
                "queue_url must look like https://sqs.<region>.amazonaws.com/<account>/<queue>: " +
                    url);
  }
  QueueRef q;
  q.url = url;
  q.account = rest.substr(0, slash);
  q.name = rest.substr(slash + 1);
  // sqs.<region>.amazonaws.com[.cn] names its region; anything else (a local server, the legacy
  // queue.amazonaws.com) leaves it to the configuration.
  const std::string_view h(host);
  if (h.rfind("sqs.", 0) == 0) {
    const size_t dot = h.find('.', 4);
    if (dot != std::string_view::npos && h.substr(dot + 1).rfind("amazonaws.com", 0) == 0) {
      q.region = std::string(h.substr(4, dot - 4));
    }
  }
  return q;
}

std::string get_queue_attributes_body(const std::string& queue_url) {
  return nlohmann::json{{"QueueUrl", queue_url},
                        {"AttributeNames",
                         {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                          "ApproximateNumberOfMessagesDelayed"}}}
      .dump();
}

QueueDepth parse_get_queue_attributes(std::string_view body) {
  const nlohmann::json j = parse_object(body, "GetQueueAttributes");
  auto it = j.find("Attributes");
  if (it == j.end() || !it->is_object()) malformed("GetQueueAttributes answer has no Attributes");
  QueueDepth d;
  d.visible = count_attribute(*it, "ApproximateNumberOfMessages");
  d.in_flight = count_attribute(*it, "ApproximateNumberOfMessagesNotVisible");
  d.delayed = count_attribute(*it, "ApproximateNumberOfMessagesDelayed");
  return d;
}

std::string get_queue_url_body(const std::string& queue_name, const std::string& account) {
  nlohmann::json j = {{"QueueName", queue_name}};
  if (!account.empty()) j["QueueOwnerAWSAccountId"] = account;
  return j.dump();
}

std::string parse_get_queue_url(std::string_view body) {
  const nlohmann::json j = parse_object(body, "GetQueueUrl");
  auto it = j.find("QueueUrl");
  if (it == j.end() || !it->is_string() || it->get<std::string>().empty()) {
    malformed("GetQueueUrl answer has no QueueUrl");
  }
  return it->get<std::string>();
}

}  // namespace ttla::sqs
