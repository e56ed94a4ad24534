// Coverage of the sampled count intervals (sampling::estimate_count), proved by simulation rather
// than assumed. Each configuration (sample fraction x table size) is audited 1,000 times with
// fresh seeds; each run draws a new table whose segment sizes are heavy tailed (log-normal,
// sigma 1) and whose rare classes keep 20% of their items in one hot partition
// (an item collection lives in one segment). Segment totals are simulated directly: only the
// sampled segments' counts are drawn (sequential binomials = the multinomial's marginal), so a
// 10^7-item table costs no more than a 10^5-item one.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "sources/sampling.h"

namespace ttla::sampling {
namespace {

constexpr int kRuns = 1000;
constexpr double kMinCoverage = 0.93;
constexpr int kRunsPerTable = 50;  // a table is audited with 50 seeds, then a new one is drawn

struct ClassSpec {
  std::string name;
  uint64_t count = 0;  // items in the table (for "half" : resolved per table size)
  double hot_share = 0;
};

// The classes of every simulated table: rare ones (0 to a few dozen items) with a hot partition,
// a class of 1,000 items and a class holding half the table, spread by segment size.
std::vector<ClassSpec> classes_for(uint64_t table_items) {
  std::vector<ClassSpec> out;
  for (uint64_t c : {0, 1, 2, 5, 10, 20, 40, 60}) out.push_back({"n" + std::to_string(c), c, 0.2});
  out.push_back({"n1000", 1000, 0});
  out.push_back({"half", table_items / 2, 0});
  return out;
}

struct Tally {
  int covered = 0;
  int runs = 0;
  std::vector<double> half_widths;  // (high - low) / 2
  double coverage() const { return runs ? static_cast<double>(covered) / runs : 0; }
  double median_half_width() {
    if (half_widths.empty()) return 0;
    std::nth_element(half_widths.begin(), half_widths.begin() + half_widths.size() / 2, half_widths.end());
    return half_widths[half_widths.size() / 2];
  }
};

// One simulated table as the sample sees it: per-segment weights (heavy tailed) and, for each
// class, the counts in the plan's sampled segments, in plan order.
struct SimulatedSample {
  std::vector<double> weights;                    // of the sampled segments, plan order
  std::vector<std::vector<double>> class_counts;  // [class][sampled segment]
};

// Segment weights of a table: log-normal (sigma 1), so the largest of 1,280 segments is about 25
// times the median.
std::vector<double> table_weights(uint64_t segments, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> w(segments);
  for (double& x : w) x = std::exp(normal(gen));
  return w;
}

SimulatedSample simulate(const SamplePlan& plan, const std::vector<double>& weights,
                         const std::vector<ClassSpec>& classes, std::mt19937_64& gen) {
  SimulatedSample out;
  const uint64_t big_n = plan.total_segments;
  std::unordered_map<uint64_t, size_t> position;
  for (size_t i = 0; i < plan.segments.size(); ++i) position[plan.segments[i]] = i;
  std::vector<double> sampled_w(plan.segments.size(), 0);
  double total_w = 0;
  for (double w : weights) total_w += w;
  for (size_t i = 0; i < plan.segments.size(); ++i) sampled_w[i] = weights[plan.segments[i]];
  out.weights = sampled_w;
  std::uniform_int_distribution<uint64_t> any_segment(0, big_n - 1);
  for (const ClassSpec& c : classes) {
    std::vector<double> y(plan.segments.size(), 0);
    const uint64_t hot = static_cast<uint64_t>(std::llround(c.hot_share * static_cast<double>(c.count)));
    auto hot_at = position.find(any_segment(gen));
    if (hot_at != position.end()) y[hot_at->second] += static_cast<double>(hot);
    // The rest spread over segments in proportion to their size: the multinomial's counts in the
    // sampled segments, drawn as successive conditional binomials.
    uint64_t remaining = c.count - hot;
    double remaining_w = total_w;
    for (size_t i = 0; i < sampled_w.size() && remaining > 0; ++i) {
      const double p = std::clamp(sampled_w[i] / remaining_w, 0.0, 1.0);
      std::binomial_distribution<uint64_t> bin(remaining, p);
      const uint64_t k = bin(gen);
      y[i] += static_cast<double>(k);
      remaining -= k;
      remaining_w -= sampled_w[i];
    }
    out.class_counts.push_back(std::move(y));
  }
  return out;
}

std::string fraction_label(double f) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%g%%", f * 100);
  return buf;
}

TEST(SampledCountCoverage, EveryClassEveryFractionEveryTableSize) {
  const double fractions[] = {0.01, 0.02, 0.05, 0.10};
  const uint64_t sizes[] = {100000, 1000000, 10000000};
  std::printf("coverage of the 95%% interval over %d seeded runs (median half-width)\n", kRuns);
  std::printf("%-6s %-9s", "frac", "items");
  for (const ClassSpec& c : classes_for(2)) std::printf(" %16s", c.name.c_str());
  std::printf("\n");
  int config = 0;
  for (double f : fractions) {
    for (uint64_t size : sizes) {
      ++config;
      const std::vector<ClassSpec> classes = classes_for(size);
      std::vector<Tally> tallies(classes.size());
      std::vector<double> weights;
      for (int run = 0; run < kRuns; ++run) {
        const uint64_t seed = static_cast<uint64_t>(config) * 1000003ULL + static_cast<uint64_t>(run);
        const SamplePlan plan = plan_sample(f, seed);
        if (run % kRunsPerTable == 0) weights = table_weights(plan.total_segments, seed);
        std::mt19937_64 gen(seed * 0x9E3779B97F4A7C15ULL + 1);
        const SimulatedSample sample = simulate(plan, weights, classes, gen);
        for (size_t c = 0; c < classes.size(); ++c) {
          const Estimate e = estimate_count(sample.class_counts[c], plan.total_segments);
          const double truth = static_cast<double>(classes[c].count);
          Tally& t = tallies[c];
          ++t.runs;
          if (e.low <= truth && truth <= e.high) ++t.covered;
          t.half_widths.push_back((e.high - e.low) / 2);
        }
      }
      std::printf("%-6s %-9llu", fraction_label(f).c_str(), static_cast<unsigned long long>(size));
      for (size_t c = 0; c < classes.size(); ++c) {
        std::printf("   %5.1f%% (%6.3g)", 100 * tallies[c].coverage(), tallies[c].median_half_width());
      }
      std::printf("\n");
      for (size_t c = 0; c < classes.size(); ++c) {
        EXPECT_GE(tallies[c].coverage(), kMinCoverage)
            << "class " << classes[c].name << " fraction " << f << " table " << size;
      }
    }
  }
}

// The figure the README quotes: a class of 1,000 items in a 200,000-item table sampled at 5%.
TEST(SampledCountCoverage, ThousandInTwoHundredThousandAtFivePercent) {
  const std::vector<ClassSpec> classes = {{"n1000", 1000, 0}, {"n40_hot", 40, 0.2}, {"n0", 0, 0.2}};
  std::vector<Tally> tallies(classes.size());
  std::vector<double> weights;
  for (int run = 0; run < kRuns; ++run) {
    const uint64_t seed = 77000000ULL + static_cast<uint64_t>(run);
    const SamplePlan plan = plan_sample(0.05, seed);
    if (run % kRunsPerTable == 0) weights = table_weights(plan.total_segments, seed);
    std::mt19937_64 gen(seed);
    const SimulatedSample sample = simulate(plan, weights, classes, gen);
    for (size_t c = 0; c < classes.size(); ++c) {
      const Estimate e = estimate_count(sample.class_counts[c], plan.total_segments);
      const double truth = static_cast<double>(classes[c].count);
      ++tallies[c].runs;
      if (e.low <= truth && truth <= e.high) ++tallies[c].covered;
      tallies[c].half_widths.push_back((e.high - e.low) / 2);
    }
  }
  for (size_t c = 0; c < classes.size(); ++c) {
    const double median = tallies[c].median_half_width();
    std::printf("200k items, 5%%, class %s: coverage %.1f%%, median 95%% half-width %.0f items\n",
                classes[c].name.c_str(), 100 * tallies[c].coverage(), median);
    EXPECT_GE(tallies[c].coverage(), kMinCoverage) << classes[c].name;
  }
  // The interval is useful, not merely wide: about +-30% for 1,000 items at 5%.
  EXPECT_LT(tallies[0].median_half_width(), 400.0);
  // Zero seen: an upper bound of 3.689 / 0.05 = 74 items, never [0, 0].
  EXPECT_NEAR(tallies[2].median_half_width(), 3.6889 / 0.05 / 2, 0.5);
}

// A read budget stops the run part-way: workers take segments in the plan's random order, no
// segment starts after the budget is reached, and the segments already started are finished
// (dropping them would drop the big ones: small segments finish first). The kept segments are
// then a prefix of a random order, and the interval keeps its coverage.
TEST(SampledCountCoverage, BudgetStoppedRunsKeepTheirCoverage) {
  const std::vector<ClassSpec> classes = {{"n0", 0, 0.2}, {"n10", 10, 0.2}, {"n40", 40, 0.2},
                                          {"n1000", 1000, 0}, {"half", 500000, 0}};
  const int workers = 4;
  std::vector<Tally> tallies(classes.size());
  double kept_share = 0;
  std::vector<double> weights;
  for (int run = 0; run < kRuns; ++run) {
    const uint64_t seed = 91000000ULL + static_cast<uint64_t>(run);
    const SamplePlan plan = plan_sample(0.05, seed);
    if (run % kRunsPerTable == 0) weights = table_weights(plan.total_segments, seed);
    std::mt19937_64 gen(seed ^ 0xABCDEFULL);
    const SimulatedSample sample = simulate(plan, weights, classes, gen);
    // Cost of a segment is its size; the budget is 40% of the whole sample's cost.
    double all_cost = 0;
    for (double w : sample.weights) all_cost += w;
    const double budget = 0.4 * all_cost;
    // Event simulation: each worker takes the next segment when free; `consumed` grows with work
    // done by all workers; a segment starts only while consumed < budget.
    std::vector<double> free_at(workers, 0.0);
    std::vector<std::pair<double, double>> running;  // (start, cost) of started segments
    size_t started = 0;
    while (started < sample.weights.size()) {
      const auto w = std::min_element(free_at.begin(), free_at.end());
      const double now = *w;
      double consumed = 0;
      for (const auto& [start, cost] : running) consumed += std::clamp(now - start, 0.0, cost);
      if (consumed >= budget) break;
      running.emplace_back(now, sample.weights[started]);
      *w = now + sample.weights[started];
      ++started;
    }
    ASSERT_GT(started, 1u);
    kept_share += static_cast<double>(started) / static_cast<double>(sample.weights.size());
    for (size_t c = 0; c < classes.size(); ++c) {
      std::vector<double> kept(sample.class_counts[c].begin(), sample.class_counts[c].begin() + static_cast<long>(started));
      const Estimate e = estimate_count(kept, plan.total_segments);
      const double truth = static_cast<double>(classes[c].count);
      ++tallies[c].runs;
      if (e.low <= truth && truth <= e.high) ++tallies[c].covered;
      tallies[c].half_widths.push_back((e.high - e.low) / 2);
    }
  }
  std::printf("budget-stopped at 40%% of a 5%% sample (kept %.0f%% of the planned segments):\n",
              100 * kept_share / kRuns);
  for (size_t c = 0; c < classes.size(); ++c) {
    std::printf("  class %-6s coverage %.1f%% median half-width %.4g\n", classes[c].name.c_str(),
                100 * tallies[c].coverage(), tallies[c].median_half_width());
    EXPECT_GE(tallies[c].coverage(), kMinCoverage) << classes[c].name;
  }
}

TEST(PoissonBounds, KnownValues) {
  // Garwood 95% limits (tables of the chi-square distribution).
  EXPECT_DOUBLE_EQ(poisson_lower_025(0), 0);
  EXPECT_NEAR(poisson_upper_975(0), 3.6889, 1e-3);
  EXPECT_NEAR(poisson_lower_025(1), 0.0253, 1e-3);
  EXPECT_NEAR(poisson_upper_975(1), 5.5716, 1e-3);
  EXPECT_NEAR(poisson_lower_025(10), 4.7954, 1e-3);
  EXPECT_NEAR(poisson_upper_975(10), 18.3904, 1e-3);
  EXPECT_NEAR(poisson_lower_025(100), 81.3639, 1e-2);
  EXPECT_NEAR(poisson_upper_975(100), 121.627, 1e-2);
  // Continuity at the switch to Wilson-Hilferty.
  EXPECT_NEAR(poisson_upper_975(400) / poisson_upper_975(401), 400.0 / 401.0, 2e-3);
  EXPECT_NEAR(poisson_lower_025(400) / poisson_lower_025(401), 400.0 / 401.0, 2e-3);
}

TEST(EstimateCount, ZeroSeenHasAnHonestUpperBound) {
  std::vector<double> zeros(64, 0.0);
  Estimate e = estimate_count(zeros, 1280);  // 5%
  EXPECT_DOUBLE_EQ(e.total, 0);
  EXPECT_DOUBLE_EQ(e.low, 0);
  EXPECT_NEAR(e.high, 3.6889 / 0.05, 1e-2);
  // A census is exact.
  Estimate census = estimate_count({0, 1, 2}, 3);
  EXPECT_DOUBLE_EQ(census.low, 3);
  EXPECT_DOUBLE_EQ(census.high, 3);
}

}  // namespace
}  // namespace ttla::sampling
