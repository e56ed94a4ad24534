#pragma once
// Token bucket on consumed read capacity, shared by the workers of one target. The cost of a Scan
// page is known only after it returns, so a worker waits until the bucket is out of debt, sends,
// then pays what the response says it consumed: the long-run rate never exceeds the limit and a
// burst is at most `burst` units plus one page per worker.
#include <atomic>
#include <functional>
#include <mutex>

namespace ttla {

class RateLimiter {
 public:
  using Clock = std::function<double()>;        // seconds, monotonic
  using Sleeper = std::function<void(double)>;  // sleep this many seconds

  // rate <= 0: unlimited. burst <= 0: one second's worth of units.
  explicit RateLimiter(double units_per_second, double burst = 0, Clock clock = {},
                       Sleeper sleeper = {});

  // Blocks while the bucket is in debt. Returns false (without waiting further) once `cancel`
  // is set; sleeps in slices of at most 100 ms so cancellation is prompt.
  bool acquire(const std::atomic<bool>* cancel = nullptr);
  // Pays for a finished request.
  void consume(double units);

  double rate() const { return rate_; }
  double waited_seconds() const;  // total time spent waiting (for logs)

 private:
  void refill_locked(double now);
  double rate_;
  double burst_;
  Clock clock_;
  Sleeper sleeper_;
  mutable std::mutex mu_;
  double tokens_;
  double last_;
  double waited_ = 0;
};

}  // namespace ttla
