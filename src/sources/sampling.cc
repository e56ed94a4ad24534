#include "sources/sampling.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <unordered_set>

namespace ttla::sampling {

uint64_t SplitMix64::next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t SplitMix64::below(uint64_t bound) {
  if (bound <= 1) return 0;
  // Rejection keeps it exactly uniform: draw below the largest multiple of bound.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t x;
  do {
    x = next();
  } while (x >= limit);
  return x % bound;
}

double SplitMix64::unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

SamplePlan plan_sample(double fraction, uint64_t seed, uint64_t min_sampled, uint64_t min_total) {
  SamplePlan plan;
  if (!(fraction > 0)) fraction = 1e-6;
  if (fraction > 1) fraction = 1;
  double wanted = std::ceil(static_cast<double>(min_sampled) / fraction);
  uint64_t total = std::max<uint64_t>(min_total, static_cast<uint64_t>(std::min(
                                                     wanted, static_cast<double>(kMaxTotalSegments))));
  total = std::min(total, kMaxTotalSegments);
  uint64_t n = static_cast<uint64_t>(std::llround(fraction * static_cast<double>(total)));
  n = std::clamp<uint64_t>(n, 1, total);
  plan.total_segments = total;
  // Floyd's algorithm picks n distinct segments without materialising all of them; a
  // Fisher-Yates pass then fixes a seeded scan order.
  SplitMix64 rng(seed ^ 0x5DEECE66DULL);
  std::unordered_set<uint64_t> chosen;
  chosen.reserve(n * 2);
  for (uint64_t j = total - n; j < total; ++j) {
    uint64_t t = rng.below(j + 1);
    if (!chosen.insert(t).second) chosen.insert(j);
  }
  plan.segments.assign(chosen.begin(), chosen.end());
  std::sort(plan.segments.begin(), plan.segments.end());
  for (size_t i = plan.segments.size(); i > 1; --i) {
    std::swap(plan.segments[i - 1], plan.segments[rng.below(i)]);
  }
  return plan;
}

double t_quantile_975(uint64_t df) {
  static const double kTable[] = {0,      12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469,
                                  2.3646, 2.3060,  2.2622, 2.2281, 2.2010, 2.1788, 2.1604,
                                  2.1448, 2.1314,  2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
                                  2.0796, 2.0739,  2.0687, 2.0639, 2.0595, 2.0555, 2.0518,
                                  2.0484, 2.0452,  2.0423};
  if (df == 0) df = 1;
  if (df <= 30) return kTable[df];
  // Cornish-Fisher expansion around the normal quantile: within 1e-4 beyond 30 df.
  const double z = 1.959963984540054;
  const double d = static_cast<double>(df);
  const double z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z;
  return z + (z3 + z) / (4 * d) + (5 * z5 + 16 * z3 + 3 * z) / (96 * d * d) +
         (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * d * d * d);
}

Estimate estimate_total(const std::vector<double>& sampled, uint64_t total_segments) {
  Estimate e;
  const size_t n = sampled.size();
  if (n == 0 || total_segments == 0) return e;
  double sum = 0;
  for (double y : sampled) sum += y;
  const double big_n = static_cast<double>(total_segments);
  const double mean = sum / static_cast<double>(n);
  e.observed = sum;
  e.total = big_n * mean;
  if (n >= total_segments) {  // census: exact
    e.low = e.high = e.total;
    return e;
  }
  if (n == 1) {  // no variance estimate: the interval says so by being unbounded above
    e.low = sum;
    e.high = std::max(e.total, sum) * big_n;
    e.standard_error = e.total;
    return e;
  }
  double ss = 0;
  for (double y : sampled) ss += (y - mean) * (y - mean);
  const double s2 = ss / static_cast<double>(n - 1);
  const double fpc = 1.0 - static_cast<double>(n) / big_n;
  e.standard_error = big_n * std::sqrt(fpc * s2 / static_cast<double>(n));
  // Widened by 5%: with log-normal segment sizes a class that is a large share of the table
  // (its segment totals follow the sizes) covered 92.5-94% with the plain t half-width in the
  // simulation of tests/unit/sources/sampling_coverage_test.cc; 1.05 brings every configuration
  // there to at least 93% at the cost of 5% wider intervals for common classes.
  const double half = 1.05 * t_quantile_975(n - 1) * e.standard_error;
  // Johnson's correction for skewness: segment totals are skewed to the right (a few large
  // segments), which leaves the plain t interval too low; the interval moves by mu3 / (6 s^2 n).
  double m3 = 0;
  for (double y : sampled) m3 += (y - mean) * (y - mean) * (y - mean);
  m3 /= static_cast<double>(n);
  const double shift = s2 > 0 ? big_n * m3 / (6.0 * s2 * static_cast<double>(n)) : 0.0;
  e.low = std::max(e.total + shift - half, sum);  // the sampled segments alone hold `sum` items
  e.high = std::max(e.total + shift + half, e.low);
  return e;
}

namespace {

// P(Poisson(m) <= k), summing the terms upwards from the mode's side in a numerically safe way
// (log of the first term, then the recurrence t_i = t_{i-1} * m / i).
double poisson_cdf(uint64_t k, double m) {
  if (m <= 0) return 1.0;
  double log_term = -m;  // i = 0
  double sum = 0;
  double max_log = log_term;
  // Sum exp(log_term_i - max_log) with max_log the largest term (the last one when k < m).
  std::vector<double> logs;
  logs.reserve(static_cast<size_t>(k) + 1);
  logs.push_back(log_term);
  const double log_m = std::log(m);
  for (uint64_t i = 1; i <= k; ++i) {
    log_term += log_m - std::log(static_cast<double>(i));
    logs.push_back(log_term);
    max_log = std::max(max_log, log_term);
  }
  for (double l : logs) sum += std::exp(l - max_log);
  return std::min(1.0, sum * std::exp(max_log));
}

// Quantile of Gamma(shape k, scale 1) by Wilson-Hilferty (chi-square with 2k df, halved).
double gamma_quantile_wh(double k, double z) {
  const double c = 1.0 / (9.0 * k);
  const double v = 1.0 - c + z * std::sqrt(c);
  return k * v * v * v;
}

constexpr uint64_t kExactLimit = 400;
constexpr double kZ975 = 1.959963984540054;

// Solves poisson_cdf(k, m) == target for m by bisection (the cdf decreases in m).
double solve_mean(uint64_t k, double target) {
  double lo = 0, hi = static_cast<double>(k) + 20.0 + 10.0 * std::sqrt(static_cast<double>(k) + 1);
  for (int i = 0; i < 200 && hi - lo > 1e-10 * std::max(1.0, hi); ++i) {
    const double mid = 0.5 * (lo + hi);
    if (poisson_cdf(k, mid) > target) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

struct PoissonTable {
  std::array<double, kExactLimit + 1> lower{};
  std::array<double, kExactLimit + 1> upper{};
};

const PoissonTable& poisson_table() {
  static const PoissonTable table = [] {
    PoissonTable t;
    for (uint64_t x = 0; x <= kExactLimit; ++x) {
      // Lower: P(X >= x | m) = 0.025  <=>  P(X <= x - 1 | m) = 0.975.
      t.lower[x] = x == 0 ? 0.0 : solve_mean(x - 1, 0.975);
      t.upper[x] = solve_mean(x, 0.025);
    }
    return t;
  }();
  return table;
}

}  // namespace

double poisson_lower_025(uint64_t x) {
  if (x == 0) return 0;
  if (x <= kExactLimit) return poisson_table().lower[x];
  return gamma_quantile_wh(static_cast<double>(x), -kZ975);
}

double poisson_upper_975(uint64_t x) {
  if (x <= kExactLimit) return poisson_table().upper[x];
  return gamma_quantile_wh(static_cast<double>(x) + 1, kZ975);
}

Estimate estimate_count(const std::vector<double>& sampled, uint64_t total_segments) {
  Estimate e = estimate_total(sampled, total_segments);
  const size_t n = sampled.size();
  if (n == 0 || total_segments == 0 || n >= total_segments) return e;
  const double f = static_cast<double>(n) / static_cast<double>(total_segments);
  const uint64_t x = static_cast<uint64_t>(std::llround(std::max(0.0, e.observed)));
  const double p_low = std::max(poisson_lower_025(x) / f, e.observed);
  const double p_high = poisson_upper_975(x) / f;
  if (n == 1) {
    // No variance estimate: the t side is unbounded above; keep the wider of the two.
    e.low = std::min(e.low, p_low);
    e.high = std::max(e.high, p_high);
    return e;
  }
  e.low = std::max(std::min(e.low, p_low), e.observed);
  e.high = std::max(e.high, p_high);
  return e;
}

void apply_sample_estimates(TargetReport& t) {
  SampleState& st = *t.sample;
  std::sort(st.segments.begin(), st.segments.end(),
            [](const SampledSegment& a, const SampledSegment& b) { return a.segment < b.segment; });
  uint64_t population = st.total_segments;
  if (st.shard_count > 1) {
    const uint64_t n = static_cast<uint64_t>(st.shard_count);
    const uint64_t i = static_cast<uint64_t>(st.shard_index);
    population = st.total_segments / n + (i < st.total_segments % n ? 1 : 0);
  }
  t.estimated = true;
  t.scan.mode = "sample";
  t.scan.segments_total = st.total_segments;
  t.scan.segments_scanned = st.segments.size();
  t.scan.seed = st.seed;
  t.scan.sample_fraction =
      population ? static_cast<double>(st.segments.size()) / static_cast<double>(population) : 0;
  nlohmann::json classes = nlohmann::json::object();
  std::vector<double> y(st.segments.size());
  for (int c = 0; c < kItemClassCount; ++c) {
    for (size_t k = 0; k < st.segments.size(); ++k) y[k] = static_cast<double>(st.segments[k].classes[static_cast<size_t>(c)]);
    const Estimate e = estimate_count(y, population);
    t.class_estimates[static_cast<size_t>(c)] = {e.total, e.low, e.high};
    classes[std::string(class_name(static_cast<ItemClass>(c)))] = {
        {"estimate", e.total}, {"ci95", {e.low, e.high}}, {"observed", e.observed}};
    if (static_cast<ItemClass>(c) == ItemClass::kExpired) {
      t.expired_estimate = e.total;
      t.ci95 = {e.low, e.high};
    }
  }
  std::vector<double> scanned, units;
  for (const SampledSegment& g : st.segments) {
    scanned.push_back(static_cast<double>(g.scanned));
    units.push_back(g.units);
  }
  const Estimate items = estimate_total(scanned, population);
  const Estimate cost = estimate_total(units, population);
  if (!st.segments.empty()) t.scan.full_scan_read_units_estimate = cost.total;
  else t.scan.full_scan_read_units_estimate.reset();
  if (!t.extra.is_object()) t.extra = nlohmann::json::object();
  nlohmann::json& dynamodb = t.extra["dynamodb"];
  if (!dynamodb.is_object()) dynamodb = nlohmann::json::object();
  // Which segments the estimate rests on, in one token (FNV-1a over the sorted segment numbers):
  // two runs drew the same sample exactly when their digests agree.
  uint64_t digest = 0xcbf29ce484222325ULL;
  for (const SampledSegment& g : st.segments) {
    for (int b = 0; b < 8; ++b) {
      digest ^= (g.segment >> (8 * b)) & 0xFF;
      digest *= 0x100000001b3ULL;
    }
  }
  char digest_hex[17];
  std::snprintf(digest_hex, sizeof digest_hex, "%016llx", static_cast<unsigned long long>(digest));
  dynamodb["sampling"] = {{"segments_sampled", st.segments.size()},
                          {"segments_digest", std::string(digest_hex)},
                          {"segments_planned", st.planned_segments},
                          {"segments_in_population", population},
                          {"budget_stopped", st.budget_stopped},
                          {"items_estimate", items.total},
                          {"items_ci95", {items.low, items.high}},
                          {"classes", classes}};
}

}  // namespace ttla::sampling
