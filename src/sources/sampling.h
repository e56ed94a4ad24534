#pragma once
// Cluster sampling over DynamoDB parallel-scan segments (pure, no I/O). A sample splits the table
// into many small segments (hash ranges: natural clusters), reads a seeded random subset of them
// completely and estimates every total from the per-segment totals: Horvitz-Thompson for simple
// random sampling of clusters without replacement, between-segment variance with the finite
// population correction, and a Student-t 95% interval.
#include <cstdint>
#include <vector>

namespace ttla::sampling {

inline constexpr uint64_t kMaxTotalSegments = 1000000;  // DynamoDB's TotalSegments limit

struct SamplePlan {
  uint64_t total_segments = 0;
  std::vector<uint64_t> segments;  // distinct, chosen, in the seeded order to scan them
  double fraction() const {
    return total_segments ? static_cast<double>(segments.size()) / total_segments : 0;
  }
};

// Plan reading about `fraction` (0 < fraction <= 1) of the table. 64 sampled segments keep the
// t interval honest on skewed tables (32 covered ~92% in the coverage test). TotalSegments =
// max(min_total, ceil(min_sampled / fraction)) (capped at kMaxTotalSegments), of which
// round(fraction * TotalSegments) are drawn with a generator seeded by `seed` (same seed, same
// plan, on every platform).
SamplePlan plan_sample(double fraction, uint64_t seed, uint64_t min_sampled = 64,
                       uint64_t min_total = 64);

struct Estimate {
  double total = 0;           // estimated population total
  double low = 0;             // 95% interval; never below what was observed
  double high = 0;
  double standard_error = 0;
  double observed = 0;        // sum over the sampled segments
};

// `sampled` holds one total per fully read segment, drawn at random from `total_segments`.
Estimate estimate_total(const std::vector<double>& sampled, uint64_t total_segments);

// Two-sided 95% quantile of Student's t with `df` degrees of freedom (df >= 1).
double t_quantile_975(uint64_t df);

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
