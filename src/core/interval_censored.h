#pragma once
// Nonparametric maximum-likelihood estimate of a distribution from interval-censored,
// left-truncated observations: Turnbull's self-consistency (EM) algorithm (B. W. Turnbull,
// "The empirical distribution function with arbitrarily grouped, censored and truncated data",
// JRSS B 38, 1976), with the innermost intervals built from the censoring intervals only
// (Frydman's correction, JRSS B 56, 1994).
//
// Used for deletion latency seen through snapshots: an item first seen alive `entry` seconds past
// its deadline (items deleted sooner are never seen: left truncation), last seen alive at age
// `left`, and seen gone at age `right` (or still there: right-censored). The estimate places
// probability mass on innermost intervals (q, p]; within one the distribution is unknown, so a
// quantile is a bracket, never a point finer than the data.
#include <cstddef>
#include <optional>
#include <vector>

namespace ttla {

struct CensoredObservation {
  double entry = 0;              // known to be alive at this age (truncation): value > entry
  double left = 0;               // last seen alive at this age (>= entry)
  std::optional<double> right;   // first seen gone at this age (> left); none: right-censored
};

struct MassInterval {
  double lower = 0;              // exclusive
  std::optional<double> upper;   // inclusive; none = +infinity
  double mass = 0;
};

struct NpmleEstimate {
  std::vector<MassInterval> intervals;  // innermost intervals, ascending, masses summing to 1
  int iterations = 0;
  bool converged = false;
};

// Observations with right <= left or left < entry are rejected (std::invalid_argument). An empty
// input gives an empty estimate. Each EM step is O(n + m) (the intervals an observation covers
// are contiguous), so tens of thousands of observations take milliseconds.
NpmleEstimate turnbull_npmle(const std::vector<CensoredObservation>& observations,
                             int max_iterations = 5000, double tolerance = 1e-8);

struct QuantileBracket {
  double lower = 0;             // the quantile lies in (lower, upper]
  std::optional<double> upper;  // none: beyond every observed deletion (only survivors there)
};

// The innermost interval where the estimated distribution function first reaches p (0 < p < 1).
// None for an empty estimate.
std::optional<QuantileBracket> npmle_quantile(const NpmleEstimate& estimate, double p);

}  // namespace ttla
