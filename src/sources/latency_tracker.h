#pragma once
// Deletion latency without writing: each run keeps, in state_dir, a consistent sample of expired
// items (the `latency_track_keys` with the smallest keyed hash of their key), and the next run
// sees which of them are gone. An item seen alive at ages a (first) and l (last) past its
// deadline and gone at age r gives the interval-censored, left-truncated observation (l, r]
// with entry a; survivors are right-censored. Turnbull's NPMLE (core/interval_censored.h) turns
// them into quantile brackets whose width is about the run spacing.
//
// The hash is keyed with a random secret kept in `<state_dir>/latency.secret` mixed with the
// target name, so the sample is stable across runs, differs between targets, and its stored
// hashes cannot be checked against guessed keys without that file. With redact_keys the state
// holds hashes only; presence then comes from the scan's own expired set (the source decides).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/interval_censored.h"

namespace ttla {

inline constexpr size_t kDefaultLatencyTrackKeys = 1000;
// Observations older than this (by the run that closed them) leave the estimate.
inline constexpr int64_t kLatencyWindowSeconds = 7 * 86400;
inline constexpr size_t kMaxLatencyObservations = 20000;

struct TrackedItem {
  uint64_t hash = 0;
  double deadline = 0;       // epoch seconds
  int64_t first_seen = 0;    // as_of of the run that first saw it expired and present
  int64_t last_seen = 0;     // as_of of the last run that saw it present
  std::string key;           // the source's key for existence checks; empty when redacted
};

// The bottom-k of a run's expired items by keyed hash; also records which of a watch list of
// hashes (the previously tracked items) the run saw. One per worker, merged.
class KeySample {
 public:
  KeySample(size_t k, uint64_t seed, const std::unordered_set<uint64_t>* watch = nullptr);
  uint64_t hash(std::string_view rendered_key) const;
  // Whether an item of this hash would enter the sample (so the caller builds its key only then).
  bool wants(uint64_t h) const;
  void add(uint64_t h, double deadline, std::string key);
  void saw(uint64_t h);  // marks a watched hash as seen (no-op for others)
  void merge(const KeySample& other);
  std::vector<TrackedItem> items() const;  // ascending hash
  const std::unordered_set<uint64_t>& seen() const { return seen_; }
  const std::unordered_set<uint64_t>* watch() const { return watch_; }
  size_t capacity() const { return k_; }

 private:
  size_t k_;
  uint64_t seed_;
  const std::unordered_set<uint64_t>* watch_;
  std::vector<TrackedItem> heap_;  // max-heap by hash, size <= k
  std::unordered_set<uint64_t> seen_;
};

struct StoredObservation {
  CensoredObservation ages;
  int64_t observed_at = 0;  // as_of of the run that closed it
};

struct LatencyState {
  std::string target;
  bool redacted = false;
  int64_t as_of = 0;  // the run that wrote it
  std::vector<TrackedItem> tracked;
  std::vector<StoredObservation> observations;
};

nlohmann::json latency_state_to_json(const LatencyState& s);
// Throws ttla::Error(kParse) naming what is wrong.
LatencyState latency_state_from_json(const nlohmann::json& j);

// What the next run learns: `present[i]` tells whether previous.tracked[i] still exists.
// Returns the new state (previous observations within the window, plus one per tracked item that
// is gone or left the sample) whose tracked set is the bottom-k by hash of the present previous
// items and the run's own sample.
LatencyState advance_latency_state(const LatencyState& previous, const std::vector<bool>& present,
                                   const std::vector<TrackedItem>& sampled, size_t k,
                                   int64_t as_of);

// The report fields: latency_source "snapshots", latency_observations (deletions seen),
// latency_censored (survivors), latency_tracked, latency_resolution_seconds (widest deletion
// interval: the run spacing), latency_seconds_quantiles {p50,p90,p99} (each the upper end of its
// bracket: by then those items were gone; the lower end when no deletion was seen that late),
// latency_seconds_brackets {p50: [lower, upper|null], ...}. No quantiles without a deletion.
nlohmann::json latency_report(const LatencyState& state, int64_t as_of);

// State files: `<state_dir>/latency/<target>.json` (target names may hold '/': encoded).
class LatencyStore {
 public:
  LatencyStore(std::string state_dir, std::string target);
  // The keyed-hash seed; creates the secret when `may_write` (else none when it is missing).
  std::optional<uint64_t> seed(bool may_write) const;
  // The saved state; nullopt when there is none. A corrupt file is reported in `warning` and
  // treated as none (tracking restarts), never an exception.
  std::optional<LatencyState> load(std::string* warning) const;
  void save(const LatencyState& state) const;  // atomic replace; throws ttla::Error(kIo)
  std::string path() const;

 private:
  std::string dir_;
  std::string target_;
};

}  // namespace ttla
