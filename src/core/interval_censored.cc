#include "core/interval_censored.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace ttla {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double right_of(const CensoredObservation& o) { return o.right ? *o.right : kInf; }

}  // namespace

NpmleEstimate turnbull_npmle(const std::vector<CensoredObservation>& observations,
                             int max_iterations, double tolerance) {
  NpmleEstimate out;
  if (observations.empty()) return out;
  for (const auto& o : observations) {
    if (!(o.left >= o.entry) || (o.right && !(*o.right > o.left)) || !std::isfinite(o.left)) {
      throw std::invalid_argument("censored observation needs entry <= left < right");
    }
  }

  // Innermost intervals: a left end immediately followed (in sorted order) by a right end. At
  // equal values a right end sorts first: (a, x] and (x, b] do not overlap.
  struct End {
    double value;
    bool is_right;
  };
  std::vector<End> ends;
  ends.reserve(observations.size() * 2);
  for (const auto& o : observations) {
    ends.push_back({o.left, false});
    ends.push_back({right_of(o), true});
  }
  std::sort(ends.begin(), ends.end(), [](const End& a, const End& b) {
    if (a.value != b.value) return a.value < b.value;
    return a.is_right && !b.is_right;
  });
  std::vector<double> q;  // lower ends
  std::vector<double> p;  // upper ends
  for (size_t i = 0; i + 1 < ends.size(); ++i) {
    if (!ends[i].is_right && ends[i + 1].is_right && ends[i].value < ends[i + 1].value) {
      q.push_back(ends[i].value);
      p.push_back(ends[i + 1].value);
    }
  }
  const size_t m = q.size();

  // Per observation: the intervals inside its censoring interval [lo, hi) and the first interval
  // inside its truncation set (q_j >= entry) `b`; intervals before b are where unseen
  // ("ghost") items, deleted before they could be seen, lie.
  const size_t n = observations.size();
  std::vector<size_t> lo(n), hi(n), b(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& o = observations[i];
    lo[i] = static_cast<size_t>(std::lower_bound(q.begin(), q.end(), o.left) - q.begin());
    const double r = right_of(o);
    hi[i] = static_cast<size_t>(std::upper_bound(p.begin(), p.end(), r) - p.begin());
    b[i] = static_cast<size_t>(std::lower_bound(q.begin(), q.end(), o.entry) - q.begin());
  }

  std::vector<double> s(m, 1.0 / static_cast<double>(m));
  std::vector<double> prefix(m + 1), diff_obs(m + 1), diff_ghost(m + 1), next(m);
  int it = 0;
  bool converged = false;
  for (; it < max_iterations && !converged; ++it) {
    prefix[0] = 0;
    for (size_t j = 0; j < m; ++j) prefix[j + 1] = prefix[j] + s[j];
    std::fill(diff_obs.begin(), diff_obs.end(), 0.0);
    std::fill(diff_ghost.begin(), diff_ghost.end(), 0.0);
    for (size_t i = 0; i < n; ++i) {
      const double a = prefix[hi[i]] - prefix[lo[i]];
      if (a > 0) {
        diff_obs[lo[i]] += 1.0 / a;
        diff_obs[hi[i]] -= 1.0 / a;
      }
      const double beyond = prefix[m] - prefix[b[i]];
      if (b[i] > 0 && beyond > 0) {
        // Expected unseen items per seen one: mass before entry over mass after it.
        diff_ghost[0] += 1.0 / beyond;
        diff_ghost[b[i]] -= 1.0 / beyond;
      }
    }
    double run_obs = 0;
    double run_ghost = 0;
    double total = 0;
    for (size_t j = 0; j < m; ++j) {
      run_obs += diff_obs[j];
      run_ghost += diff_ghost[j];
      next[j] = s[j] * (run_obs + run_ghost);
      total += next[j];
    }
    double change = 0;
    for (size_t j = 0; j < m; ++j) {
      next[j] = total > 0 ? next[j] / total : 0;
      change = std::max(change, std::abs(next[j] - s[j]));
    }
    s.swap(next);
    converged = change < tolerance;
  }
  out.iterations = it;
  out.converged = converged;
  out.intervals.reserve(m);
  for (size_t j = 0; j < m; ++j) {
    MassInterval iv;
    iv.lower = q[j];
    if (std::isfinite(p[j])) iv.upper = p[j];
    iv.mass = s[j];
    out.intervals.push_back(iv);
  }
  return out;
}

std::optional<QuantileBracket> npmle_quantile(const NpmleEstimate& estimate, double prob) {
  if (estimate.intervals.empty()) return std::nullopt;
  double cumulative = 0;
  for (const auto& iv : estimate.intervals) {
    cumulative += iv.mass;
    if (cumulative >= prob - 1e-9) return QuantileBracket{iv.lower, iv.upper};
  }
  const auto& last = estimate.intervals.back();
  return QuantileBracket{last.lower, last.upper};
}

}  // namespace ttla
