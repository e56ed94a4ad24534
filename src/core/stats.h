#pragma once
// Mergeable statistics. Every structure here obeys the merge contract: merge(a, b) equals the
// statistics of a ∪ b (exactly, or within the documented error), in any order. Sources fill one
// TargetStats per segment/shard and merge them; `ttl-auditor merge` does the same across machines.
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/classify.h"

namespace ttla {

// DDSketch-style log-bucket sketch: every quantile is within `relative_accuracy` of a true
// sample value (default 0.5% so reported quantiles are within 1%). Values < 1 share one bucket
// and are reported as 0. Memory is O(log(max/min)/accuracy), independent of the count (values
// between 1 and 1e10 need at most ~2300 buckets). quantile(q) returns the estimate of the
// nearest-rank quantile: the sorted value at 1-based rank ceil(q * count) (rank 1 for q = 0),
// the definition SQL's percentile_disc uses, so every source reports the same p50/p90/p99. Merging sketches of different accuracy re-adds
// the other's bucket values, so the error then adds up; shards use the same default.
class QuantileSketch {
 public:
  explicit QuantileSketch(double relative_accuracy = 0.005);
  void add(double value, uint64_t count = 1);
  void merge(const QuantileSketch& other);
  // q in [0,1]; 0 when empty.
  double quantile(double q) const;
  uint64_t count() const { return count_; }
  double relative_accuracy() const { return alpha_; }
  nlohmann::json to_json() const;
  static QuantileSketch from_json(const nlohmann::json& j);

 private:
  int bucket_index(double value) const;
  double bucket_value(int index) const;
  double alpha_;
  double gamma_;
  double log_gamma_;
  uint64_t zero_count_ = 0;
  int offset_ = 0;                 // index of buckets_[0]
  std::vector<uint64_t> buckets_;  // dense, grows at either end
  uint64_t count_ = 0;
};

// Fixed overdue-age histogram, cumulative like Prometheus (`le` upper bounds in seconds, the last
// one +Inf). Bounds: 1h 6h 12h 1d 2d 3d 7d 14d 30d 90d 365d +Inf.
class OverdueHistogram {
 public:
  static const std::vector<double>& bounds();  // finite bounds only
  void add(double overdue_seconds, uint64_t n = 1);
  void merge(const OverdueHistogram& other);
  // Cumulative counts, one per finite bound plus the +Inf bucket (== total).
  std::vector<uint64_t> cumulative() const;
  double sum() const { return sum_; }
  nlohmann::json to_json() const;  // [{"le":3600,"count":n},...,{"le":"+Inf","count":n}]
  // to_json() plus the sum, for mergeable state: {"buckets": [...], "sum": s}.
  nlohmann::json to_state() const;
  // Accepts both to_json() (sum 0) and to_state() shapes; throws ttla::Error kParse.
  static OverdueHistogram from_json(const nlohmann::json& j);

 private:
  std::vector<uint64_t> counts_ = std::vector<uint64_t>(bounds().size() + 1, 0);  // per bucket
  double sum_ = 0;
};

// One remembered item (for oldest_items / sample_items).
struct ItemRef {
  std::string key;         // rendered by the source, e.g. "pk=user1#s1,sk=meta"; hashed if redacted
  double deadline = 0;     // epoch seconds when it became due (TTL value, lifecycle expiry...)
  double overdue_seconds = 0;
  uint64_t bytes = 0;
  uint64_t priority = 0;   // seeded hash of the key: bottom-k reservoir rank
};
// Report shape {"key","deadline","deadline_at"(RFC 3339),"overdue_seconds","bytes"(when > 0)}.
// The priority is not part of it (TargetStats::to_state stores it); from_json reads it when present.
void to_json(nlohmann::json& j, const ItemRef& r);
void from_json(const nlohmann::json& j, ItemRef& r);

// Seeded 64-bit hash of a key (stable across machines and runs: little-endian reads, no
// std::hash). Drives the reservoir priority, so the sample depends only on the seed and the set
// of items, never on insertion order or parallelism.
uint64_t seeded_hash(std::string_view key, uint64_t seed);
// What redact_keys shows instead of a key: "hash:" + 16 hex digits of a seeded hash (derived from
// but different from the priority). Same key and seed give the same text, so runs correlate.
std::string redact_key(std::string_view key, uint64_t seed);

// Top-k frequent groups with bounded memory (Misra-Gries / mergeable summaries). Counts are exact
// while the number of distinct groups stays within `capacity`; otherwise each reported count is
// at most `error_bound()` below the truth, never above it, and error_bound() <= N / (capacity + 1)
// where N is the total count added (merges included). Any group whose true count exceeds that
// bound is guaranteed to be kept. Between compactions up to 2 * capacity counters are held (so a
// new group costs amortised O(1)); a compaction keeps at most `capacity`.
class TopGroups {
 public:
  explicit TopGroups(size_t capacity = 1024);
  void add(std::string_view group, uint64_t n = 1);
  void merge(const TopGroups& other);
  std::vector<std::pair<std::string, uint64_t>> top(size_t k) const;  // count desc, then name
  uint64_t error_bound() const { return error_; }
  nlohmann::json to_json() const;
  static TopGroups from_json(const nlohmann::json& j);

 private:
  void shrink();
  struct Hash {
    using is_transparent = void;  // find() by string_view: no allocation for known groups
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  size_t capacity_;
  std::unordered_map<std::string, uint64_t, Hash, std::equal_to<>> counts_;
  uint64_t error_ = 0;
};

struct StatsOptions {
  size_t k = 10;             // oldest_items and sample_items size
  uint64_t seed = 0;         // reservoir seed (--seed)
  bool redact_keys = false;  // hash key values in oldest/sample items
  size_t top_groups = 10;    // how many groups the report lists
};

// Everything a source learns about one target (or one segment/shard of it).
// oldest_items: the k expired items with the largest overdue (ties: smaller priority first).
// sample_items: the k expired items with the smallest seeded_hash(key, seed) ("bottom-k"), a
// uniform sample without replacement that is identical however the items were split or ordered.
// Both are bounded heaps; add_expired builds a std::string only for an item entering one of them.
// Merging stats with different options keeps this side's options.
class TargetStats {
 public:
  explicit TargetStats(StatsOptions options = {});

  // Count an item of a non-expired class (hygiene findings, not_yet_expired). Expired items go
  // through add_expired, which counts them too.
  void count(ItemClass c, uint64_t n = 1) { class_counts_[static_cast<size_t>(c)] += n; }
  // An expired item. `key` is rendered by the source; `group` empty when not grouping;
  // overdue_seconds >= 0 (deadline <= as_of). Allocation-free unless the item enters the
  // oldest or sample list (or is a new group).
  void add_expired(std::string_view key, double deadline, double overdue_seconds, uint64_t bytes,
                   std::string_view group);
  // For sources that aggregate on the server (SQL): `n` expired items whose overdue ages all lie
  // in [min_overdue, max_overdue] (one fine bucket), `bytes` in total. Counts, exact min/max, the
  // histogram and the sketch are updated; no key is remembered. (Defined in stats_bulk.cc.)
  void add_expired_range(uint64_t n, double min_overdue, double max_overdue, uint64_t bytes);
  // Offer an already-counted expired item to the oldest_items list, or to the seeded sample,
  // without counting it again (server-side aggregation picks the candidates). (stats_bulk.cc.)
  void offer_oldest(std::string_view key, double deadline, double overdue_seconds, uint64_t bytes);
  void offer_sample(std::string_view key, double deadline, double overdue_seconds, uint64_t bytes);
  void merge(const TargetStats& other);

  uint64_t class_count(ItemClass c) const { return class_counts_[static_cast<size_t>(c)]; }
  uint64_t expired_count() const { return class_count(ItemClass::kExpired); }
  uint64_t expired_bytes() const { return expired_bytes_; }
  double oldest_overdue_seconds() const { return expired_count() ? max_overdue_ : 0; }
  double newest_overdue_seconds() const { return expired_count() ? min_overdue_ : 0; }
  const QuantileSketch& sketch() const { return sketch_; }
  const OverdueHistogram& histogram() const { return histogram_; }
  std::vector<ItemRef> oldest_items() const;  // largest overdue first
  std::vector<ItemRef> sample_items() const;  // seeded uniform sample of expired items
  std::vector<std::pair<std::string, uint64_t>> top_groups() const;
  const StatsOptions& options() const { return options_; }

  // Mergeable state for shard reports (`ttl-auditor merge`).
  nlohmann::json to_state() const;
  static TargetStats from_state(const nlohmann::json& j);

 private:
  StatsOptions options_;
  std::array<uint64_t, kItemClassCount> class_counts_{};
  uint64_t expired_bytes_ = 0;
  double min_overdue_ = 0;
  double max_overdue_ = 0;
  QuantileSketch sketch_;
  OverdueHistogram histogram_;
  std::vector<ItemRef> oldest_;   // bounded heap, size <= k
  std::vector<ItemRef> reservoir_;  // bottom-k by priority, size <= k
  TopGroups groups_;
};

}  // namespace ttla
