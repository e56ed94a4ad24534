#pragma once
// Token bucket on consumed read capacity, shared by the workers of one target. A Scan page's cost
// is known only after it returns, so a worker reserves its estimated cost before sending (waiting
// until the bucket holds that much) and settles with the ConsumedCapacity of the response. Tokens
// plus outstanding reservations never exceed `burst`, so whatever the number of workers, the units
// consumed in any window of W seconds are at most burst + rate * W plus the underestimate of the
// pages still in flight (one per worker); later reservations pay any such debt back.
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>

namespace ttla {

class RateLimiter {
 public:
  using Clock = std::function<double()>;        // seconds, monotonic
  using Sleeper = std::function<void(double)>;  // sleep this many seconds

  // rate <= 0: unlimited. burst <= 0: default_burst(rate).
  explicit RateLimiter(double units_per_second, double burst = 0, Clock clock = {},
                       Sleeper sleeper = {});

  // A quarter of a second's worth of units, at least the smallest page cost (0.5 unit): small
  // enough that a full bucket adds at most 2.5% to any 10-second window.
  static double default_burst(double units_per_second);

  // Blocks until `units` (clamped to the burst) can be taken from the bucket, then takes them.
  // Returns false (holding nothing) once `cancel` is set; sleeps in slices of at most 100 ms so
  // cancellation is prompt. Unlimited: returns at once.
  bool reserve(double units, const std::atomic<bool>* cancel = nullptr);
  // Settles a reservation of `reserved` units whose request consumed `consumed` units (a request
  // that failed before consuming anything settles with 0).
  void settle(double reserved, double consumed);

  // Older interface: wait until the bucket is out of debt / pay afterwards.
  bool acquire(const std::atomic<bool>* cancel = nullptr) { return reserve(0, cancel); }
  void consume(double units) { settle(0, units); }

  double rate() const { return rate_; }
  double burst() const { return burst_; }
  double waited_seconds() const;  // total time spent waiting (for logs)

 private:
  void refill_locked(double now);
  double rate_;
  double burst_;
  Clock clock_;
  Sleeper sleeper_;
  mutable std::mutex mu_;
  double tokens_;
  double outstanding_ = 0;  // reserved, not yet settled
  double last_;
  double waited_ = 0;
};

// Sizes a worker's Scan pages (`Limit`) so that each costs at most `page_units`: a Scan is charged
// ceil(bytes read / 4 KB) half-units (eventually consistent), so the budget is B = page_units / 0.5
// blocks of 4 KB. The first page assumes 4 KB items (one per block); then the Limit follows the
// item size observed from each page's ConsumedCapacity: grows (at most doubling) while pages cost
// less than B blocks, creeps up by half a block's worth of items while they cost exactly B (the size is then known
// only to be at most 4 KB * B / Limit), and shrinks in proportion when a page cost more.
class PageSizer {
 public:
  // page_units <= 0: no bound (no Limit).
  explicit PageSizer(double page_units);
  uint64_t limit() const { return limit_; }       // 0 = no Limit
  double reservation() const { return units_; }   // what to reserve for the next page
  // A page of `limit()` asked, `scanned` items evaluated (ScannedCount), `consumed` units.
  void observe(uint64_t scanned, double consumed);

 private:
  double units_ = 0;
  uint64_t blocks_ = 0;
  uint64_t limit_ = 0;
};

}  // namespace ttla
