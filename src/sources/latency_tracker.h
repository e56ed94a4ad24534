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
// A source that lists everything it covers (S3) learns presence from its own listing
// (ListedItems). LatencyRun is the part every source shares: load, sample, advance, report, save.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/interval_censored.h"
#include "sources/source.h"

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
  // What the tracked items were drawn from when a source says (S3: "s3://bucket/prefix"); a state
  // of another scope is not used. Empty for DynamoDB (the target names its table).
  std::string scope;
  bool redacted = false;
  int64_t as_of = 0;  // the run that wrote it
  std::vector<TrackedItem> tracked;
  std::vector<StoredObservation> observations;
};

nlohmann::json latency_state_to_json(const LatencyState& s);
// Throws ttla::Error(kParse) naming what is wrong.
LatencyState latency_state_from_json(const nlohmann::json& j);

// What a run learns about a previously tracked item: still there, gone (deleted since the run that
// last saw it), or changed (there, but with another deadline: overwritten, or its rule changed;
// it leaves the sample, censored at the last run that saw it unchanged).
enum class Presence : uint8_t { kGone, kPresent, kChanged };

// What the next run learns: `present[i]` tells what became of previous.tracked[i] (missing
// entries: gone). Returns the new state (previous observations within the window, plus one per
// tracked item that is gone or left the sample) whose tracked set is the bottom-k by hash of the
// present previous items and the run's own sample.
LatencyState advance_latency_state(const LatencyState& previous, const std::vector<Presence>& present,
                                   const std::vector<TrackedItem>& sampled, size_t k,
                                   int64_t as_of);

// Presence from a listing that sees every item of its scope (S3's ListObjectsV2 over the
// prefix): the source notes each listed item whose hash is tracked, with the deadline it has now
// (none: no longer expires). After a complete listing, an item listed with its tracked deadline
// is present, listed otherwise changed, not listed gone. Works with hashes alone (redact_keys).
class ListedItems {
 public:
  explicit ListedItems(const std::vector<TrackedItem>& tracked);
  bool tracks(uint64_t h) const { return deadlines_.count(h) != 0; }
  void saw(uint64_t h, std::optional<double> deadline);  // no-op for untracked hashes
  std::vector<Presence> presence() const;               // one per tracked item, in order

 private:
  std::vector<uint64_t> order_;                     // the tracked hashes, in order
  std::unordered_map<uint64_t, double> deadlines_;  // tracked hash -> tracked deadline
  std::unordered_map<uint64_t, bool> seen_;         // listed: whether with the same deadline
};

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

// One target's tracking in one run, the part every source shares: loads the previous state and
// the keyed-hash seed, gives the run its sample, and once the source knows what became of the
// previously tracked items, advances the state, reports it and saves it (when the run may).
class LatencyRun {
 public:
  // Off (enabled() false) without a state_dir, in shard runs, with track_keys 0, or when the
  // secret does not exist and this run may not create it. A saved state written with another
  // redact_keys or `scope` is ignored with a warning (tracking restarts).
  LatencyRun(const std::string& target, bool redact_keys, int track_keys, std::string scope,
             const RunContext& ctx);
  bool enabled() const { return seed_.has_value(); }
  const LatencyState& previous() const { return previous_; }
  // The previously tracked hashes (for KeySample's watch list).
  const std::unordered_set<uint64_t>& watch() const { return watch_; }
  // A sample for this run (one per worker; merged by the source).
  KeySample sample() const;
  // Whether the source must say what became of previous().tracked (some are tracked and this run
  // is later than the one that wrote the state).
  bool needs_presence() const;
  // The deletion section's latency fields: the state advanced with `present` (one per
  // previous().tracked; empty when !needs_presence()) and this run's sample, saved when the run
  // may write.
  nlohmann::json finish(const KeySample& sample, const std::vector<Presence>& present);
  // The fields when what became of the tracked items could not be learnt this run (`why`): the
  // state is left as it was for a later run.
  static nlohmann::json unmeasured(const std::string& why);

 private:
  std::string target_;
  size_t track_keys_ = 0;
  int64_t as_of_ = 0;
  bool may_write_ = false;
  std::optional<uint64_t> seed_;
  LatencyStore store_;
  LatencyState previous_;
  std::string load_warning_;
  std::unordered_set<uint64_t> watch_;
};

}  // namespace ttla
