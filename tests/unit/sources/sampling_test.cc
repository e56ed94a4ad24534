// Cluster-sampling plans and estimates, including a coverage test of the 95% interval.
#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "sources/sampling.h"

namespace ttla::sampling {
namespace {

TEST(SamplePlan, SizesAndDeterminism) {
  SamplePlan p = plan_sample(0.05, 42);
  EXPECT_EQ(p.total_segments, 5120u);  // ceil(256 / 0.05)
  EXPECT_EQ(p.segments.size(), 256u);
  std::set<uint64_t> distinct(p.segments.begin(), p.segments.end());
  EXPECT_EQ(distinct.size(), p.segments.size());
  for (uint64_t s : p.segments) EXPECT_LT(s, p.total_segments);
  EXPECT_DOUBLE_EQ(p.fraction(), 0.05);

  SamplePlan again = plan_sample(0.05, 42);
  EXPECT_EQ(again.segments, p.segments);
  SamplePlan other = plan_sample(0.05, 43);
  EXPECT_NE(other.segments, p.segments);

  SamplePlan half = plan_sample(0.5, 1);
  EXPECT_EQ(half.total_segments, 512u);
  EXPECT_EQ(half.segments.size(), 256u);
  SamplePlan most = plan_sample(0.9, 1);
  EXPECT_EQ(most.total_segments, 285u);  // ceil(256 / 0.9)
  EXPECT_EQ(most.segments.size(), 257u);

  SamplePlan tiny = plan_sample(1e-5, 7);
  EXPECT_EQ(tiny.total_segments, kMaxTotalSegments);
  EXPECT_EQ(tiny.segments.size(), 10u);
}

TEST(SamplePlan, EverySegmentEquallyLikely) {
  // Each of 128 segments should be chosen about half the time over many seeds.
  std::vector<int> hits(128, 0);
  const int trials = 4000;
  for (int seed = 0; seed < trials; ++seed) {
    SamplePlan p = plan_sample(0.5, static_cast<uint64_t>(seed), 64);
    ASSERT_EQ(p.total_segments, 128u);
    for (uint64_t s : p.segments) ++hits[s];
  }
  for (int h : hits) {
    // Binomial(4000, 0.5): sd ~ 31.6; 5 sd either side.
    EXPECT_NEAR(h, trials / 2, 160);
  }
}

TEST(Estimate, CensusIsExactAndSmallCases) {
  Estimate census = estimate_total({1, 2, 3, 4}, 4);
  EXPECT_DOUBLE_EQ(census.total, 10);
  EXPECT_DOUBLE_EQ(census.low, 10);
  EXPECT_DOUBLE_EQ(census.high, 10);

  Estimate e = estimate_total({10, 20}, 10);
  EXPECT_DOUBLE_EQ(e.total, 150);
  // s^2 = 50, fpc = 0.8, se = 10 * sqrt(0.8 * 50 / 2) = 44.72; t(1) = 12.706
  EXPECT_NEAR(e.standard_error, 44.7214, 1e-3);
  EXPECT_DOUBLE_EQ(e.low, 30);  // clamped at the observed 30
  // The t half-width carries the 5% calibration factor (sampling.cc, estimate_total).
  EXPECT_NEAR(e.high, 150 + 1.05 * 12.7062 * 44.7214, 1e-2);

  Estimate none = estimate_total({}, 10);
  EXPECT_DOUBLE_EQ(none.total, 0);
}

TEST(Estimate, TQuantiles) {
  EXPECT_NEAR(t_quantile_975(1), 12.706, 1e-3);
  EXPECT_NEAR(t_quantile_975(10), 2.228, 1e-3);
  EXPECT_NEAR(t_quantile_975(30), 2.042, 1e-3);
  EXPECT_NEAR(t_quantile_975(31), 2.0395, 1e-3);
  EXPECT_NEAR(t_quantile_975(60), 2.0003, 1e-3);
  EXPECT_NEAR(t_quantile_975(120), 1.9799, 1e-3);
  EXPECT_NEAR(t_quantile_975(100000), 1.95998, 1e-3);
}

double normal(SplitMix64& rng) {
  double u1 = std::max(rng.unit(), 1e-300);
  double u2 = rng.unit();
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
}

// A table as a parallel scan sees it: items live in item collections (one partition key each,
// sizes log-normal so a few are large), collections hash uniformly to segments, and expiry is
// clustered by collection (a fifth are lapsed bulk imports with 80% expired, the rest 3%). So
// segment totals are uneven and skewed, as real ones are.
std::vector<double> make_population(uint64_t seed, uint64_t segments) {
  SplitMix64 rng(seed * 7919 + 17);
  std::vector<double> expired(segments, 0.0);
  const uint64_t collections = segments * 20;
  for (uint64_t c = 0; c < collections; ++c) {
    uint64_t size = 1 + static_cast<uint64_t>(std::exp(1.0 + 1.0 * normal(rng)));
    double p = rng.unit() < 0.2 ? 0.8 : 0.03;
    uint64_t k = 0;
    for (uint64_t i = 0; i < size; ++i) k += rng.unit() < p;
    expired[rng.below(segments)] += static_cast<double>(k);
  }
  return expired;
}

TEST(Estimate, NinetyFivePercentIntervalCoversTheTruth) {
  const int trials = 1000;
  int covered = 0;
  double bias_sum = 0;
  for (int t = 0; t < trials; ++t) {
    SamplePlan plan = plan_sample(0.05, static_cast<uint64_t>(t), 64);
    std::vector<double> population = make_population(static_cast<uint64_t>(t), plan.total_segments);
    double truth = 0;
    for (double y : population) truth += y;
    std::vector<double> sampled;
    for (uint64_t s : plan.segments) sampled.push_back(population[s]);
    Estimate e = estimate_total(sampled, plan.total_segments);
    if (e.low <= truth && truth <= e.high) ++covered;
    bias_sum += (e.total - truth) / truth;
  }
  const double coverage = static_cast<double>(covered) / trials;
  EXPECT_GE(coverage, 0.92) << coverage;
  EXPECT_LE(coverage, 0.98) << coverage;
  // Unbiased: the mean relative error is near zero.
  EXPECT_LT(std::abs(bias_sum / trials), 0.02);
}

TEST(Estimate, CoverageWithAFixedPopulationAcrossSeeds) {
  // The same table audited with 1000 different seeds: only the sample varies.
  SamplePlan first = plan_sample(0.1, 0, 64);
  std::vector<double> population = make_population(99, first.total_segments);
  double truth = 0;
  for (double y : population) truth += y;
  int covered = 0;
  const int trials = 1000;
  for (int seed = 0; seed < trials; ++seed) {
    SamplePlan plan = plan_sample(0.1, static_cast<uint64_t>(seed) + 1000, 64);
    ASSERT_EQ(plan.total_segments, first.total_segments);
    std::vector<double> sampled;
    for (uint64_t s : plan.segments) sampled.push_back(population[s]);
    Estimate e = estimate_total(sampled, plan.total_segments);
    if (e.low <= truth && truth <= e.high) ++covered;
  }
  const double coverage = static_cast<double>(covered) / trials;
  EXPECT_GE(coverage, 0.92) << coverage;
  EXPECT_LE(coverage, 0.98) << coverage;
}

}  // namespace
}  // namespace ttla::sampling
