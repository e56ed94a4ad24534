#include "sources/rate_limiter.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace ttla {

namespace {
double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
void real_sleep(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}
}  // namespace

RateLimiter::RateLimiter(double units_per_second, double burst, Clock clock, Sleeper sleeper)
    : rate_(units_per_second),
      burst_(burst > 0 ? burst : std::max(units_per_second, 0.0)),
      clock_(clock ? std::move(clock) : Clock(steady_seconds)),
      sleeper_(sleeper ? std::move(sleeper) : Sleeper(real_sleep)),
      tokens_(burst_),
      last_(clock_()) {}

void RateLimiter::refill_locked(double now) {
  if (now > last_) {
    tokens_ = std::min(burst_, tokens_ + (now - last_) * rate_);
    last_ = now;
  }
}

bool RateLimiter::acquire(const std::atomic<bool>* cancel) {
  if (rate_ <= 0) return !(cancel && cancel->load());
  while (true) {
    if (cancel && cancel->load()) return false;
    double wait;
    {
      std::lock_guard<std::mutex> lock(mu_);
      refill_locked(clock_());
      // A debt below a micro-unit is rounding, not debt (and would ask for sleeps too short to
      // move a clock forward).
      if (tokens_ >= -1e-6) return true;
      wait = std::clamp(-tokens_ / rate_, 1e-3, 0.1);
    }
    sleeper_(wait);
    std::lock_guard<std::mutex> lock(mu_);
    waited_ += wait;
  }
}

void RateLimiter::consume(double units) {
  if (rate_ <= 0 || units <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  refill_locked(clock_());
  tokens_ -= units;
}

double RateLimiter::waited_seconds() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waited_;
}

}  // namespace ttla
