// Server-side aggregation entry points of TargetStats (used by the postgres source): ranges of
// equal-bucket overdue ages and pre-selected oldest/sample candidates.
#include <gtest/gtest.h>

#include "core/stats.h"

namespace ttla {
namespace {

TEST(StatsBulk, RangesCountExactlyAndKeepExactExtremes) {
  TargetStats s(StatsOptions{3, 7, false, 3});
  s.add_expired_range(10, 100, 101, 50);
  s.add_expired_range(5, 4000, 4030, 0);
  s.add_expired_range(0, 1, 2, 0);  // empty ranges are ignored
  EXPECT_EQ(s.expired_count(), 15u);
  EXPECT_EQ(s.expired_bytes(), 50u);
  EXPECT_DOUBLE_EQ(s.newest_overdue_seconds(), 100);
  EXPECT_DOUBLE_EQ(s.oldest_overdue_seconds(), 4030);
  auto cum = s.histogram().cumulative();
  EXPECT_EQ(cum[0], 10u);  // le 3600
  EXPECT_EQ(cum.back(), 15u);
  EXPECT_NEAR(s.sketch().quantile(0.5), 100.5, 100.5 * 0.01);
  EXPECT_NEAR(s.sketch().quantile(0.99), 4015, 4015 * 0.01);
  EXPECT_TRUE(s.oldest_items().empty());  // ranges carry no keys
}

TEST(StatsBulk, OffersFillOldestAndSampleWithoutCounting) {
  TargetStats s(StatsOptions{2, 7, false, 2});
  s.add_expired_range(4, 10, 10, 0);
  s.offer_oldest("a", 0, 10, 0);
  s.offer_oldest("b", 0, 30, 0);
  s.offer_oldest("c", 0, 20, 0);
  s.offer_sample("x", 0, 10, 0);
  EXPECT_EQ(s.expired_count(), 4u);
  auto oldest = s.oldest_items();
  ASSERT_EQ(oldest.size(), 2u);
  EXPECT_EQ(oldest[0].key, "b");
  EXPECT_EQ(oldest[1].key, "c");
  auto sample = s.sample_items();
  ASSERT_EQ(sample.size(), 1u);
  EXPECT_EQ(sample[0].key, "x");
}

TEST(StatsBulk, OffersAreRedactedWhenAsked) {
  TargetStats s(StatsOptions{2, 7, true, 2});
  s.add_expired_range(1, 10, 10, 0);
  s.offer_oldest("user-secret", 0, 10, 0);
  auto oldest = s.oldest_items();
  ASSERT_EQ(oldest.size(), 1u);
  EXPECT_EQ(oldest[0].key.find("secret"), std::string::npos);
}

}  // namespace
}  // namespace ttla
