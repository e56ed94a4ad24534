#pragma once
// A target's time limits (config `request_timeout`, `connect_timeout`, `max_duration`) applied to
// what the sources use: the HTTP options of its AWS clients, and a watchdog that tells the source
// to stop when `max_duration` is over.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "aws/http_client.h"
#include "config/config.h"
#include "sources/source.h"

namespace ttla {

// `base` with the target's timeouts (defaults when unset) and ctx.cancel as the abort flag, so a
// request in flight ends when the target is told to stop.
aws::HttpOptions http_options_for(const TargetConfig& target, const RunContext& ctx,
                                  aws::HttpOptions base);

// While alive, raises its own stop flag when `outer` is raised (a signal) or when `limit_seconds`
// (> 0) have passed, whichever comes first. `expired()` tells which. Stops its thread on
// destruction.
class TargetDeadline {
 public:
  TargetDeadline(const std::atomic<bool>* outer, double limit_seconds);
  ~TargetDeadline();
  TargetDeadline(const TargetDeadline&) = delete;
  TargetDeadline& operator=(const TargetDeadline&) = delete;

  const std::atomic<bool>* flag() const { return &stop_; }
  bool expired() const { return expired_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> expired_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace ttla
