#include "aws/retry.h"

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
