#include "core/interval_censored.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace ttla {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double right_of(const CensoredObservation& o) { return o.right ? *o.right : kInf; }

void validate(const std::vector<CensoredObservation>& observations) {
  for (const auto& o : observations) {
    if (!(o.left >= o.entry) || (o.right && !(*o.right > o.left)) || !std::isfinite(o.left)) {
      throw std::invalid_argument("censored observation needs entry <= left < right");
    }
  }
}

// Turnbull's innermost intervals (q[j], p[j]]: a left end immediately followed, in sorted order,
// by a right end. At equal values a right end sorts first: (a, x] and (x, b] do not overlap.
struct Innermost {
  std::vector<double> q;  // lower ends
  std::vector<double> p;  // upper ends
};

Innermost innermost_intervals(const std::vector<CensoredObservation>& observations) {
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
  Innermost out;
  for (size_t i = 0; i + 1 < ends.size(); ++i) {
    if (!ends[i].is_right && ends[i + 1].is_right && ends[i].value < ends[i + 1].value) {
      out.q.push_back(ends[i].value);
      out.p.push_back(ends[i + 1].value);
    }
  }
  return out;
}

// Per observation: the innermost intervals inside its censoring interval [lo, hi) and the first
// one inside its truncation set (q_j >= entry) `b`; intervals before b are where unseen ("ghost")
// items, deleted before they could be seen, lie.
struct Spans {
  std::vector<size_t> lo, hi, b;
};

Spans observation_spans(const std::vector<CensoredObservation>& observations, const Innermost& iv) {
  const size_t n = observations.size();
  Spans out{std::vector<size_t>(n), std::vector<size_t>(n), std::vector<size_t>(n)};
  for (size_t i = 0; i < n; ++i) {
    const auto& o = observations[i];
    out.lo[i] = static_cast<size_t>(std::lower_bound(iv.q.begin(), iv.q.end(), o.left) - iv.q.begin());
    out.hi[i] = static_cast<size_t>(std::upper_bound(iv.p.begin(), iv.p.end(), right_of(o)) - iv.p.begin());
    out.b[i] = static_cast<size_t>(std::lower_bound(iv.q.begin(), iv.q.end(), o.entry) - iv.q.begin());
  }
  return out;
}

// One self-consistency (EM) step: `next` from `s`; returns the largest change of any mass.
class EmStep {
 public:
  EmStep(const Spans& spans, size_t m)
      : spans_(spans), m_(m), prefix_(m + 1), diff_obs_(m + 1), diff_ghost_(m + 1) {}

  double operator()(const std::vector<double>& s, std::vector<double>& next) {
    prefix_[0] = 0;
    for (size_t j = 0; j < m_; ++j) prefix_[j + 1] = prefix_[j] + s[j];
    std::fill(diff_obs_.begin(), diff_obs_.end(), 0.0);
    std::fill(diff_ghost_.begin(), diff_ghost_.end(), 0.0);
    for (size_t i = 0; i < spans_.lo.size(); ++i) add_observation(i);
    double run_obs = 0;
    double run_ghost = 0;
    double total = 0;
    for (size_t j = 0; j < m_; ++j) {
      run_obs += diff_obs_[j];
      run_ghost += diff_ghost_[j];
      next[j] = s[j] * (run_obs + run_ghost);
      total += next[j];
    }
    double change = 0;
    for (size_t j = 0; j < m_; ++j) {
      next[j] = total > 0 ? next[j] / total : 0;
      change = std::max(change, std::abs(next[j] - s[j]));
    }
    return change;
  }

 private:
  // Spreads observation i's weight over its censoring interval, and its expected unseen items
  // (mass before entry over mass after it) over the intervals before its entry.
  void add_observation(size_t i) {
    const size_t lo = spans_.lo[i], hi = spans_.hi[i], b = spans_.b[i];
    const double a = prefix_[hi] - prefix_[lo];
    if (a > 0) {
      diff_obs_[lo] += 1.0 / a;
      diff_obs_[hi] -= 1.0 / a;
    }
    const double beyond = prefix_[m_] - prefix_[b];
    if (b > 0 && beyond > 0) {
      diff_ghost_[0] += 1.0 / beyond;
      diff_ghost_[b] -= 1.0 / beyond;
    }
  }

  const Spans& spans_;
  size_t m_;
  std::vector<double> prefix_, diff_obs_, diff_ghost_;
};

}  // namespace

NpmleEstimate turnbull_npmle(const std::vector<CensoredObservation>& observations,
                             int max_iterations, double tolerance) {
  NpmleEstimate out;
  if (observations.empty()) return out;
  validate(observations);
  const Innermost iv = innermost_intervals(observations);
  const size_t m = iv.q.size();
  const Spans spans = observation_spans(observations, iv);
  EmStep step(spans, m);
  std::vector<double> s(m, 1.0 / static_cast<double>(m)), next(m);
  int it = 0;
  bool converged = false;
  for (; it < max_iterations && !converged; ++it) {
    converged = step(s, next) < tolerance;
    s.swap(next);
  }
  out.iterations = it;
  out.converged = converged;
  out.intervals.reserve(m);
  for (size_t j = 0; j < m; ++j) {
    MassInterval mi;
    mi.lower = iv.q[j];
    if (std::isfinite(iv.p[j])) mi.upper = iv.p[j];
    mi.mass = s[j];
    out.intervals.push_back(mi);
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
