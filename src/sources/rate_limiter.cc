#include "sources/rate_limiter.h"

#include <algorithm>
#include <chrono>
#include <cmath>
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

double RateLimiter::default_burst(double units_per_second) {
  return std::max(0.5, 0.25 * units_per_second);
}

RateLimiter::RateLimiter(double units_per_second, double burst, Clock clock, Sleeper sleeper)
    : rate_(units_per_second),
      burst_(burst > 0 ? burst : default_burst(std::max(units_per_second, 0.0))),
      clock_(clock ? std::move(clock) : Clock(steady_seconds)),
      sleeper_(sleeper ? std::move(sleeper) : Sleeper(real_sleep)),
      tokens_(burst_),
      last_(clock_()) {}

void RateLimiter::refill_locked(double now) {
  if (now > last_) {
    const double cap = burst_ - outstanding_;
    if (tokens_ < cap) tokens_ = std::min(cap, tokens_ + (now - last_) * rate_);
    last_ = now;
  }
}

bool RateLimiter::reserve(double units, const std::atomic<bool>* cancel) {
  if (rate_ <= 0) return !(cancel && cancel->load());
  units = std::clamp(units, 0.0, burst_);
  while (true) {
    if (cancel && cancel->load()) return false;
    double wait;
    {
      std::lock_guard<std::mutex> lock(mu_);
      refill_locked(clock_());
      // A shortfall below a micro-unit is rounding, not debt (and would ask for sleeps too short
      // to move a clock forward).
      const double shortfall = units - tokens_;
      if (shortfall <= 1e-6) {
        tokens_ -= units;
        outstanding_ += units;
        return true;
      }
      wait = std::clamp(shortfall / rate_, 1e-3, 0.1);
    }
    sleeper_(wait);
    std::lock_guard<std::mutex> lock(mu_);
    waited_ += wait;
  }
}

void RateLimiter::settle(double reserved, double consumed) {
  if (rate_ <= 0) return;
  reserved = std::clamp(reserved, 0.0, burst_);
  consumed = std::max(consumed, 0.0);
  std::lock_guard<std::mutex> lock(mu_);
  refill_locked(clock_());
  outstanding_ = std::max(0.0, outstanding_ - reserved);
  // What the page cost beyond its reservation becomes debt; what it cost less comes back, up to
  // the cap.
  tokens_ = std::min(burst_ - outstanding_, tokens_ + reserved - consumed);
}

double RateLimiter::waited_seconds() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waited_;
}

PageSizer::PageSizer(double page_units) {
  if (page_units <= 0) return;
  blocks_ = std::max<uint64_t>(1, static_cast<uint64_t>(page_units / 0.5 + 1e-9));
  units_ = static_cast<double>(blocks_) * 0.5;
  limit_ = blocks_;
}

void PageSizer::observe(uint64_t scanned, double consumed) {
  if (limit_ == 0) return;
  // A short page ended the segment (or hit the 1 MB cap): it says nothing about the Limit.
  if (scanned < limit_) return;
  const auto charged = static_cast<uint64_t>(std::ceil(std::max(consumed, 0.0) / 0.5 - 1e-9));
  uint64_t next;
  if (charged < blocks_) {
    const uint64_t by_size =
        charged == 0 ? limit_ * 2 : limit_ * blocks_ / charged;
    next = std::min(limit_ * 2, by_size);
  } else if (charged == blocks_) {
    // Half a block's worth of items more: the next page overshoots by at most one block.
    next = limit_ + std::max<uint64_t>(1, limit_ / (2 * charged));
  } else {
    next = limit_ * blocks_ / charged;
  }
  // DynamoDB's own cap is 1 MB per page; a Limit beyond a million items is never useful.
  limit_ = std::clamp<uint64_t>(next, 1, 1'000'000);
}

}  // namespace ttla
