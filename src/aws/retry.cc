#include "aws/retry.h"

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include <algorithm>
#include <array>
#include <cmath>

namespace ttla::aws {

namespace {

// Error codes AWS SDK standard mode treats as throttling (DOMAIN-FACTS, botocore _retry.json).
constexpr std::array<std::string_view, 14> kThrottlingCodes = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
};

// Codes that mean "the service had a transient problem", whatever the status says.
// IDPCommunicationError: STS could not reach the web identity provider (botocore retries it).
constexpr std::array<std::string_view, 8> kTransientCodes = {
    "RequestTimeout",  "RequestTimeoutException", "InternalError",
    "InternalServerError", "InternalFailure",     "ServiceUnavailable",
    "ServiceUnavailableException", "IDPCommunicationError",
};

bool contains(auto& list, std::string_view code) {
  return std::find(list.begin(), list.end(), code) != list.end();
}

std::string_view trim_leading(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' ||
                        s.front() == '\n' || s.front() == '\xEF' || s.front() == '\xBB' ||
                        s.front() == '\xBF')) {
    s.remove_prefix(1);
  }
  return s;
}

// "com.amazon.coral.availability#ThrottlingException" -> "ThrottlingException"; some services
// append ":http://internal.amazon.com/..." which is dropped as well.
std::string short_code(std::string_view raw) {
  if (size_t hash = raw.rfind('#'); hash != std::string_view::npos) raw.remove_prefix(hash + 1);
  if (size_t colon = raw.find(':'); colon != std::string_view::npos) raw = raw.substr(0, colon);
  while (!raw.empty() && raw.back() == ' ') raw.remove_suffix(1);
  return std::string(raw);
}

std::string json_field(std::string_view body, std::initializer_list<const char*> names) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return {};
  for (const char* name : names) {
    auto it = doc.find(name);
    if (it != doc.end() && it->is_string()) return it->get<std::string>();
  }
  return {};
}

std::string xml_field(std::string_view body, const char* element) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return {};
  // S3: <Error><Code>; STS/query: <ErrorResponse><Error><Code>. Only an Error element's child
  // counts, so a success document that happens to contain <Code> is not an error.
  std::string xpath = std::string("//Error/") + element;
  pugi::xpath_node node = doc.select_node(xpath.c_str());
  if (!node) return {};
  return node.node().child_value();
}

}  // namespace

RetryClass classify(bool transport_error, long http_status, std::string_view aws_error_code) {
  if (transport_error) return RetryClass::kTransient;
  if (!aws_error_code.empty()) {
    if (contains(kThrottlingCodes, aws_error_code)) return RetryClass::kThrottling;
    if (contains(kTransientCodes, aws_error_code)) return RetryClass::kTransient;
  }
  if (http_status == 429 || http_status == 509) return RetryClass::kThrottling;
  if (http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504) {
    return RetryClass::kTransient;
  }
  if (http_status >= 200 && http_status < 300) return RetryClass::kNone;
  // 3xx (we never follow redirects: an S3 region redirect is a configuration problem), 4xx and
  // the other 5xx are final.
  return RetryClass::kFatal;
}

std::string aws_error_code(std::string_view body) {
  std::string_view s = trim_leading(body);
  if (s.empty()) return {};
  if (s.front() == '{') return short_code(json_field(s, {"__type", "code", "Code"}));
  if (s.front() == '<') return xml_field(s, "Code");
  return {};
}

std::string aws_error_message(std::string_view body) {
  std::string_view s = trim_leading(body);
  if (s.empty()) return {};
  if (s.front() == '{') return json_field(s, {"message", "Message", "errorMessage"});
  if (s.front() == '<') return xml_field(s, "Message");
  return {};
}

RetryPolicy::RetryPolicy(RetryOptions options, uint64_t seed)
    : options_(options), rng_(seed), tokens_(options.budget_tokens) {}

std::optional<double> RetryPolicy::next_delay(int attempt, RetryClass c, double elapsed_seconds,
                                              std::optional<double> retry_after_seconds,
                                              bool timeout_error) {
  if (c != RetryClass::kThrottling && c != RetryClass::kTransient) return std::nullopt;
  if (attempt >= options_.max_attempts) return std::nullopt;

  std::lock_guard<std::mutex> lock(mu_);
  double delay;
  if (retry_after_seconds && *retry_after_seconds >= 0) {
    // The service told us when to come back; never wait longer than our own ceiling.
    delay = std::min(*retry_after_seconds, options_.max_delay_seconds);
  } else {
    // Full jitter: random(0..1) * min(2^(n-1) * base, max). Exponent capped to stay finite.
    double exp = std::ldexp(options_.base_delay_seconds, std::min(attempt - 1, 62));
    double ceiling = std::min(exp, options_.max_delay_seconds);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    delay = unit(rng_) * ceiling;
  }
  if (elapsed_seconds + delay > options_.deadline_seconds) return std::nullopt;

  int cost = timeout_error ? kTimeoutRetryCost : kRetryCost;
  if (tokens_ < cost) return std::nullopt;
  tokens_ -= cost;
  return delay;
}

void RetryPolicy::on_success(int attempts_made, bool last_retry_was_timeout) {
  std::lock_guard<std::mutex> lock(mu_);
  // Standard mode: a success after retries gives back what its last retry cost; a first-try
  // success adds one token. The bucket never exceeds its initial size.
  int refund = attempts_made > 1 ? (last_retry_was_timeout ? kTimeoutRetryCost : kRetryCost)
                                 : kNoRetryIncrement;
  tokens_ = std::min(options_.budget_tokens, tokens_ + refund);
}

int RetryPolicy::budget() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tokens_;
}

}  // namespace ttla::aws
