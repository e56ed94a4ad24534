#pragma once
// Cluster sampling over DynamoDB parallel-scan segments (pure, no I/O). A sample splits the table
// into many small segments (hash ranges: natural clusters), reads a seeded random subset of them
// completely and estimates every total from the per-segment totals: Horvitz-Thompson for simple
// random sampling of clusters without replacement, between-segment variance with the finite
// population correction, and a Student-t 95% interval.
#include <cstdint>
#include <vector>

#include "core/report.h"

namespace ttla::sampling {

inline constexpr uint64_t kMaxTotalSegments = 1000000;  // DynamoDB's TotalSegments limit

struct SamplePlan {
  uint64_t total_segments = 0;
  std::vector<uint64_t> segments;  // distinct, chosen, in the seeded order to scan them
  double fraction() const {
    return total_segments ? static_cast<double>(segments.size()) / total_segments : 0;
  }
};

// Plan reading about `fraction` (0 < fraction <= 1) of the table. 256 sampled segments keep the
// interval honest on tables with skewed segment sizes (64 covered only ~90% for common classes
// with log-normal segment sizes in tests/unit/sources/sampling_coverage_test.cc). TotalSegments =
// max(min_total, ceil(min_sampled / fraction)) (capped at kMaxTotalSegments), of which
// round(fraction * TotalSegments) are drawn with a generator seeded by `seed` (same seed, same
// plan, on every platform).
SamplePlan plan_sample(double fraction, uint64_t seed, uint64_t min_sampled = 256,
                       uint64_t min_total = 64);

struct Estimate {
  double total = 0;           // estimated population total
  double low = 0;             // 95% interval; never below what was observed
  double high = 0;
  double standard_error = 0;
  double observed = 0;        // sum over the sampled segments
};

// `sampled` holds one total per fully read segment, drawn at random from `total_segments`.
// Design-based only: right for costs and sizes, not for rare counts (0 seen gives [0, 0]).
Estimate estimate_total(const std::vector<double>& sampled, uint64_t total_segments);

// Estimate of an item count (a class total) from whole-item per-segment counts. The point
// estimate is Horvitz-Thompson (observed / f, f = sampled / total segments). The 95% interval is
// the union of two intervals, each right where the other is weak:
//  - the design-based Student-t interval of estimate_total (between-segment variance with the
//    finite population correction): right for common classes and for clustered ones whose big
//    segments were drawn;
//  - an exact Poisson (Garwood) interval on the observed count, scaled by 1/f: every item lies
//    in a sampled segment with probability f, so for items spread over many segments the
//    observed count is Binomial(total, f), which the Poisson bound covers conservatively. It is
//    the only honest bound when few or no items were seen: 0 seen gives [0, 3.689 / f].
// The lower bound is never below what was observed.
Estimate estimate_count(const std::vector<double>& sampled, uint64_t total_segments);

// Exact 95% Poisson bounds for an observed count x (Garwood): the mean m with P(X >= x | m) =
// 0.025 (0 for x = 0) and the mean with P(X <= x | m) = 0.025. Exact summation up to x = 400,
// the Wilson-Hilferty approximation above (relative error below 1e-4 there).
double poisson_lower_025(uint64_t x);
double poisson_upper_975(uint64_t x);

// Two-sided 95% quantile of Student's t with `df` degrees of freedom (df >= 1).
double t_quantile_975(uint64_t df);

// Fills every sampled estimate of `t` from t.sample (which must be set): each class's estimate
// and interval (estimate_count; expired also into expired_estimate/ci95), scan.sample_fraction,
// scan.segments_scanned, full_scan_read_units_estimate and the "dynamodb.sampling" details.
// The population is the plan's TotalSegments, or this shard's share of it (s % N == i) for an
// unmerged shard part. Segments are taken in segment order, so one process and any number of
// merged shards that read the same segments give bit-identical estimates.
void apply_sample_estimates(TargetReport& t);

// Deterministic 64-bit generator (splitmix64) used for plans, exposed for tests.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next();
  uint64_t below(uint64_t bound);  // uniform in [0, bound)
  double unit();                   // uniform in [0, 1)

 private:
  uint64_t state_;
};

}  // namespace ttla::sampling
