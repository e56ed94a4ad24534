// The shared token bucket on consumed read capacity, on a fake clock.
#include <atomic>
#include <chrono>

#include <gtest/gtest.h>

#include "sources/rate_limiter.h"

namespace ttla {
namespace {

struct FakeTime {
  double now = 1000;
  double slept = 0;
  RateLimiter::Clock clock() {
    return [this] { return now; };
  }
  RateLimiter::Sleeper sleeper() {
    return [this](double s) {
      now += s;
      slept += s;
    };
  }
};

TEST(RateLimiter, LongRunRateNeverExceedsTheLimit) {
  FakeTime t;
  RateLimiter limiter(10, 0, t.clock(), t.sleeper());
  // 50 pages of 4 units = 200 units at 10/s: ~19 s (the first 10 units are the initial burst).
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(limiter.acquire());
    limiter.consume(4);
  }
  EXPECT_GE(t.slept, 18.5);
  EXPECT_LE(t.slept, 19.6);
  EXPECT_NEAR(limiter.waited_seconds(), t.slept, 1e-9);
}

TEST(RateLimiter, IdleTimeRefillsOnlyUpToTheBurst) {
  FakeTime t;
  RateLimiter limiter(5, 5, t.clock(), t.sleeper());
  limiter.consume(5);
  t.now += 3600;  // an hour idle is worth one burst, not 18000 units
  ASSERT_TRUE(limiter.acquire());
  limiter.consume(10);  // 5 in debt now
  ASSERT_TRUE(limiter.acquire());
  EXPECT_NEAR(t.slept, 1.0, 1e-9);
}

TEST(RateLimiter, UnlimitedNeverWaits) {
  FakeTime t;
  RateLimiter limiter(0, 0, t.clock(), t.sleeper());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(limiter.acquire());
    limiter.consume(1000);
  }
  EXPECT_EQ(t.slept, 0);
}

TEST(RateLimiter, CancelStopsTheWait) {
  FakeTime t;
  std::atomic<bool> cancel{false};
  RateLimiter limiter(1, 1, t.clock(), [&](double s) {
    t.now += s;
    t.slept += s;
    if (t.slept > 2) cancel = true;
  });
  limiter.consume(100);  // 99 s of debt
  EXPECT_FALSE(limiter.acquire(&cancel));
  EXPECT_LT(t.slept, 3);
}

TEST(RateLimiter, RealClockSmoke) {
  RateLimiter limiter(1000);
  limiter.consume(1050);  // 50 units of debt at 1000/s: ~50 ms
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(limiter.acquire());
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(waited, 0.04);
}

}  // namespace
}  // namespace ttla
