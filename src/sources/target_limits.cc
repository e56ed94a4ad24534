#include "sources/target_limits.h"

namespace ttla {

aws::HttpOptions http_options_for(const TargetConfig& target, const RunContext& ctx,
                                  aws::HttpOptions base) {
  if (target.request_timeout) base.total_timeout_ms = static_cast<long>(*target.request_timeout * 1000);
  if (target.connect_timeout) base.connect_timeout_ms = static_cast<long>(*target.connect_timeout * 1000);
  if (ctx.cancel != nullptr) base.abort = ctx.cancel;
  return base;
}

TargetDeadline::TargetDeadline(const std::atomic<bool>* outer, double limit_seconds) {
  const auto start = std::chrono::steady_clock::now();
  const auto until = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 std::chrono::duration<double>(limit_seconds));
  thread_ = std::thread([this, outer, until, limit_seconds] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!done_) {
      if (outer != nullptr && outer->load()) {
        stop_.store(true);
        return;
      }
      if (limit_seconds > 0 && std::chrono::steady_clock::now() >= until) {
        expired_.store(true);
        stop_.store(true);
        return;
      }
      // Signals are polled; the limit is waited for exactly (whichever is nearer).
      auto next = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
      if (limit_seconds > 0 && until < next) next = until;
      cv_.wait_until(lock, next);
    }
  });
}

TargetDeadline::~TargetDeadline() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

}  // namespace ttla
