#pragma once
// AWS standard-mode retries: classify (throttling, transient, fatal), exponential backoff with
// full jitter (delay = random(0..1) * min(2^(n-1) * base, max)), a retry budget (token bucket
// shared by a client's calls), `x-amz-retry-after` honoured, an overall deadline.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace ttla::aws {

struct RetryOptions {
  int max_attempts = 5;            // including the first
  double base_delay_seconds = 0.1;
  double max_delay_seconds = 20.0;
  double deadline_seconds = 120;   // overall, per call
  int budget_tokens = 500;         // standard mode: 5 per retry, 10 per timeout retry, +1 success
};

enum class RetryClass { kNone, kThrottling, kTransient, kFatal };

// Classify a finished attempt. `transport_error` true when no HTTP response came back;
// `aws_error_code` is the short code ("ThrottlingException", "SlowDown"), may be empty.
RetryClass classify(bool transport_error, long http_status, std::string_view aws_error_code);

class RetryPolicy {
 public:
  static constexpr int kRetryCost = 5;
  static constexpr int kTimeoutRetryCost = 10;
  static constexpr int kNoRetryIncrement = 1;

  explicit RetryPolicy(RetryOptions options = {}, uint64_t seed = std::random_device{}());
  // After attempt number `attempt` (1-based) failed with class `c`: the delay before the next
  // attempt, or nullopt when we must give up (fatal, attempts exhausted, budget or deadline hit).
  // `retry_after_seconds` from x-amz-retry-after (or Retry-After) when present.
  // `timeout_error` (additive): the failure was a timeout, which costs kTimeoutRetryCost tokens.
  // A retry that is granted takes its cost from the budget; nullopt never takes anything.
  std::optional<double> next_delay(int attempt, RetryClass c, double elapsed_seconds,
                                   std::optional<double> retry_after_seconds,
                                   bool timeout_error = false);
  // A call succeeded after `attempts_made` attempts (additive defaults: a first-try success).
  // Refunds the last retry's cost, or adds kNoRetryIncrement after a first-try success.
  void on_success(int attempts_made = 1, bool last_retry_was_timeout = false);
  const RetryOptions& options() const { return options_; }
  int budget() const;

 private:
  RetryOptions options_;
  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  int tokens_;
};

}  // namespace ttla::aws
