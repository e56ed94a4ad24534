#include "sources/deletion_rate.h"

#include <gtest/gtest.h>

namespace ttla {
namespace {

constexpr int64_t kHour = 3600;
constexpr int64_t kAsOf = 1796019200;       // 2026-11-30T06:13:20Z
constexpr int64_t kEnd = 1796018400;        // 06:00:00Z

TEST(DeletionWindow, EndsAtTheLastWholeHourAndRoundsTheLengthUp) {
  DeletionWindow w = deletion_window(kAsOf, 86400);
  EXPECT_EQ(w.end, kEnd);
  EXPECT_EQ(w.start, kEnd - 86400);
  EXPECT_EQ(deletion_window(kEnd, 86400).end, kEnd);  // on the hour: that hour
  EXPECT_EQ(deletion_window(kAsOf, 5400).start, kEnd - 2 * kHour);
  EXPECT_EQ(deletion_window(kAsOf, 0).start, kEnd - kHour);
}

TEST(DeletionRate, MissingHoursAreZerosAndOutsidePointsIgnored) {
  DeletionWindow w = deletion_window(kAsOf, 24 * kHour);
  std::vector<cloudwatch::Datapoint> pts = {{w.start, 10},          {w.start + 5 * kHour, 20},
                                            {w.end - kHour, 18},    {w.end, 1000},
                                            {w.start - kHour, 1000}};
  DeletionRate r = summarize_deletions(pts, w, 96);
  EXPECT_DOUBLE_EQ(r.deleted_in_window, 48);
  EXPECT_EQ(r.datapoints, 3u);
  EXPECT_DOUBLE_EQ(r.rate_per_hour, 2);
  ASSERT_TRUE(r.drain_eta_seconds);
  EXPECT_DOUBLE_EQ(*r.drain_eta_seconds, 48 * 3600.0);  // 96 items at 2/h
}

TEST(DeletionRate, NoDeletionsMeansNoDrainEstimate) {
  DeletionWindow w = deletion_window(kAsOf, 24 * kHour);
  DeletionRate r = summarize_deletions({}, w, 500);
  EXPECT_DOUBLE_EQ(r.rate_per_hour, 0);
  EXPECT_FALSE(r.drain_eta_seconds);
  nlohmann::json j = deletion_section(r);
  EXPECT_TRUE(j["drain_eta_seconds"].is_null());
  EXPECT_EQ(j["source"], "cloudwatch");
  EXPECT_EQ(j["window_seconds"], 86400);
  EXPECT_EQ(j["window_end"], "2026-11-30T06:00:00Z");
  EXPECT_EQ(j["deleted_in_window"], 0.0);
}

TEST(DeletionRate, EmptyBacklogDrainsNow) {
  DeletionWindow w = deletion_window(kAsOf, 2 * kHour);
  DeletionRate r = summarize_deletions({{w.start, 4}}, w, 0);
  EXPECT_DOUBLE_EQ(r.rate_per_hour, 2);
  ASSERT_TRUE(r.drain_eta_seconds);
  EXPECT_DOUBLE_EQ(*r.drain_eta_seconds, 0);
  EXPECT_EQ(deletion_section(r)["drain_eta_seconds"], 0.0);
}

}  // namespace
}  // namespace ttla
