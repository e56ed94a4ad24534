// The shared token bucket on consumed read capacity, on a fake clock.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

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
  RateLimiter limiter(1000, 1000);
  limiter.consume(1050);  // 50 units of debt at 1000/s: ~50 ms
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(limiter.acquire());
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(waited, 0.04);
}

TEST(RateLimiter, ReservationWaitsForTheWholePageAndSettleRefunds) {
  FakeTime t;
  RateLimiter limiter(10, 4, t.clock(), t.sleeper());
  ASSERT_TRUE(limiter.reserve(4));  // the full bucket
  EXPECT_EQ(t.slept, 0);
  limiter.settle(4, 1);  // cost 1: 3 come back
  ASSERT_TRUE(limiter.reserve(3));
  EXPECT_EQ(t.slept, 0);
  limiter.settle(3, 3);
  ASSERT_TRUE(limiter.reserve(2));  // empty bucket: 0.2 s for 2 units at 10/s
  EXPECT_NEAR(t.slept, 0.2, 1e-6);
  limiter.settle(2, 6);  // 4 beyond the reservation: debt
  ASSERT_TRUE(limiter.reserve(1));
  EXPECT_NEAR(t.slept, 0.2 + 0.5, 1e-6);
}

TEST(RateLimiter, OutstandingReservationsCountAgainstTheBurst) {
  FakeTime t;
  RateLimiter limiter(10, 4, t.clock(), t.sleeper());
  ASSERT_TRUE(limiter.reserve(4));
  t.now += 100;  // a slow request: the idle bucket may not refill past burst - outstanding
  ASSERT_TRUE(limiter.reserve(0));
  EXPECT_EQ(t.slept, 0);
  limiter.settle(4, 4);  // it consumed all of it: the bucket refills from empty
  ASSERT_TRUE(limiter.reserve(1));
  EXPECT_NEAR(t.slept, 0.1, 1e-6);
}

TEST(RateLimiter, ReservationLargerThanTheBurstIsClamped) {
  FakeTime t;
  RateLimiter limiter(10, 2, t.clock(), t.sleeper());
  ASSERT_TRUE(limiter.reserve(50));
  EXPECT_EQ(t.slept, 0);
}

// Sixteen threads on the real clock, each reserving an estimate, "sending" (a short sleep) and
// settling with a cost up to 40% off the estimate: no window of 0.5 s after the first 0.25 s sees
// more than 1.1x the limit (the bound is burst + rate * W + one page per worker of underestimate).
TEST(RateLimiter, ManyThreadsShareOneBucket) {
  constexpr double kRate = 4000;
  RateLimiter limiter(kRate);
  std::mutex mu;
  std::vector<std::pair<double, double>> log;  // (seconds since start, units) at response
  const auto start = std::chrono::steady_clock::now();
  auto since = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < 16; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(static_cast<unsigned>(w));
      std::uniform_real_distribution<double> off(0.6, 1.4);
      while (since() < 2.0) {
        const double est = 20;
        if (!limiter.reserve(est)) return;
        std::this_thread::sleep_for(std::chrono::microseconds(500));
        const double cost = est * off(rng);
        {
          std::lock_guard<std::mutex> lock(mu);
          log.emplace_back(since(), cost);
        }
        limiter.settle(est, cost);
      }
    });
  }
  for (auto& th : threads) th.join();
  double total = 0;
  for (const auto& e : log) total += e.second;
  ASSERT_GT(total, kRate * 0.5) << "the threads barely ran";
  for (double from = 0.25; from + 0.5 <= 2.0; from += 0.05) {
    double sum = 0;
    for (const auto& e : log) {
      if (e.first >= from && e.first < from + 0.5) sum += e.second;
    }
    // burst (1000) + 0.5 s (2000) + 16 pages of up to 8 units under the estimate: 3128 units;
    // 1.1x of the window's 2000 is 2200, with a quarter-second burst folded in: 3200.
    EXPECT_LE(sum, 1.1 * kRate * 0.5 + limiter.burst()) << "window from " << from;
  }
}

// DynamoDB's charge for one eventually consistent Scan page of `items` items of `bytes` each.
double page_cost(uint64_t items, double bytes) {
  return std::ceil(static_cast<double>(items) * bytes / 4096.0) * 0.5;
}

TEST(PageSizer, NoBoundMeansNoLimit) {
  PageSizer sizer(0);
  EXPECT_EQ(sizer.limit(), 0u);
  EXPECT_EQ(sizer.reservation(), 0);
}

TEST(PageSizer, FirstPageAssumesFourKilobyteItems) {
  PageSizer sizer(12.6);  // 25 blocks
  EXPECT_EQ(sizer.limit(), 25u);
  EXPECT_DOUBLE_EQ(sizer.reservation(), 12.5);
}

// Small items, a one-block budget (the hard case: a page at the budget says little about the
// size) and a 25-block budget: every page costs at most one item's worth beyond the budget (one
// block for items under 4 KB), and the
// Limit ends near what the budget can hold.
TEST(PageSizer, FollowsTheObservedItemSizeWithinOneBlock) {
  for (double budget : {0.5, 12.5}) {
    for (double bytes : {150.0, 1000.0, 9000.0}) {
      PageSizer sizer(budget);
      const double ideal = std::max(1.0, std::floor(budget / 0.5 * 4096 / bytes));
      double late_items = 0;
      for (int page = 0; page < 200; ++page) {
        const uint64_t n = sizer.limit();
        const double cost = page_cost(n, bytes);
        sizer.observe(n, cost);
        if (page == 0 && bytes > 4096) continue;  // the first page assumed items of 4 KB at most
        EXPECT_LE(cost, std::max(budget, page_cost(1, bytes)) + page_cost(1, bytes))
            << "budget " << budget << " bytes " << bytes << " page " << page;
        if (page >= 100) late_items += static_cast<double>(n);
      }
      EXPECT_GE(late_items / 100, 0.45 * ideal) << "budget " << budget << " bytes " << bytes;
      EXPECT_LE(late_items / 100, 1.2 * ideal + 1) << "budget " << budget << " bytes " << bytes;
    }
  }
}

TEST(PageSizer, ShortPagesDoNotMoveTheLimit) {
  PageSizer sizer(5);
  const uint64_t before = sizer.limit();
  sizer.observe(before - 1, 0.5);  // the segment ended
  EXPECT_EQ(sizer.limit(), before);
}

}  // namespace
}  // namespace ttla
