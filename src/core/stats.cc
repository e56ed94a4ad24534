#include "core/stats.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/time.h"

namespace ttla {
namespace {

[[noreturn]] void parse_error(const std::string& what) {
  throw Error(ErrorKind::kParse, "stats state: " + what);
}

// Reads a required member, turning nlohmann's exceptions into ttla::Error kParse.
template <typename T>
T get_member(const nlohmann::json& j, const char* name) {
  if (!j.is_object() || !j.contains(name)) parse_error(std::string("missing \"") + name + "\"");
  try {
    return j.at(name).get<T>();
  } catch (const nlohmann::json::exception& e) {
    parse_error(std::string("bad \"") + name + "\": " + e.what());
  }
}

// Runs a reader, turning nlohmann's exceptions (missing member, wrong type) into kParse.
template <typename F>
auto guarded(F&& read) -> decltype(read()) {
  try {
    return read();
  } catch (const nlohmann::json::exception& e) {
    parse_error(e.what());
  }
}

uint64_t mix64(uint64_t x) {  // splitmix64 finaliser: a bijection with full avalanche
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

uint64_t load_le(const unsigned char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

constexpr uint64_t kRedactSalt = 0x5265646163744b79ULL;  // keeps redacted text != priority

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return std::string(buf, 16);
}

uint64_t parse_hex64(const std::string& s) {
  if (s.empty() || s.size() > 16) parse_error("bad priority \"" + s + "\"");
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else parse_error("bad priority \"" + s + "\"");
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

// Total orders on items; "a before b" means a is kept in preference to b. Keys are deliberately
// not compared: equal overdue, priority, deadline and bytes means the same key (a 64-bit hash
// collision aside), and the key may already be redacted.
bool oldest_before(double a_overdue, uint64_t a_prio, double a_deadline, uint64_t a_bytes,
                   const ItemRef& b) {
  if (a_overdue != b.overdue_seconds) return a_overdue > b.overdue_seconds;
  if (a_prio != b.priority) return a_prio < b.priority;
  if (a_deadline != b.deadline) return a_deadline < b.deadline;
  return a_bytes > b.bytes;
}
bool oldest_before(const ItemRef& a, const ItemRef& b) {
  return oldest_before(a.overdue_seconds, a.priority, a.deadline, a.bytes, b);
}
bool sample_before(double a_overdue, uint64_t a_prio, double a_deadline, uint64_t a_bytes,
                   const ItemRef& b) {
  if (a_prio != b.priority) return a_prio < b.priority;
  return oldest_before(a_overdue, a_prio, a_deadline, a_bytes, b);
}
bool sample_before(const ItemRef& a, const ItemRef& b) {
  return sample_before(a.overdue_seconds, a.priority, a.deadline, a.bytes, b);
}

// Bounded "best k" heap: with comp = before, front() is the worst kept item, so a newcomer
// enters when it comes before front().
template <typename Before>
void offer(std::vector<ItemRef>& heap, size_t k, ItemRef item, Before before) {
  if (k == 0) return;
  if (heap.size() < k) {
    heap.push_back(std::move(item));
    std::push_heap(heap.begin(), heap.end(), before);
    return;
  }
  if (!before(item, heap.front())) return;
  std::pop_heap(heap.begin(), heap.end(), before);
  heap.back() = std::move(item);
  std::push_heap(heap.begin(), heap.end(), before);
}

nlohmann::json item_state(const ItemRef& r) {
  return {{"key", r.key},
          {"deadline", r.deadline},
          {"overdue_seconds", r.overdue_seconds},
          {"bytes", r.bytes},
          {"priority", hex64(r.priority)}};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// QuantileSketch

QuantileSketch::QuantileSketch(double relative_accuracy) : alpha_(relative_accuracy) {
  if (!(alpha_ > 0 && alpha_ < 1)) {
    throw Error(ErrorKind::kInternal, "QuantileSketch: relative accuracy must be in (0, 1)");
  }
  gamma_ = (1 + alpha_) / (1 - alpha_);
  log_gamma_ = std::log(gamma_);
}

// Bucket i holds (gamma^(i-1), gamma^i]; its representative value 2*gamma^i/(gamma+1) is within
// alpha of every value in it.
int QuantileSketch::bucket_index(double value) const {
  return static_cast<int>(std::ceil(std::log(value) / log_gamma_));
}

double QuantileSketch::bucket_value(int index) const {
  return 2.0 * std::exp(index * log_gamma_) / (gamma_ + 1.0);
}

void QuantileSketch::add(double value, uint64_t count) {
  if (count == 0) return;
  count_ += count;
  if (!(value >= 1.0)) {  // also NaN
    zero_count_ += count;
    return;
  }
  if (value > std::numeric_limits<double>::max()) value = std::numeric_limits<double>::max();
  int index = bucket_index(value);
  if (buckets_.empty()) {
    offset_ = index;
    buckets_.assign(1, 0);
  } else if (index < offset_) {
    buckets_.insert(buckets_.begin(), static_cast<size_t>(offset_ - index), 0);
    offset_ = index;
  } else if (index >= offset_ + static_cast<int>(buckets_.size())) {
    buckets_.resize(static_cast<size_t>(index - offset_ + 1), 0);
  }
  buckets_[static_cast<size_t>(index - offset_)] += count;
}

void QuantileSketch::merge(const QuantileSketch& other) {
  if (other.count_ == 0) return;
  if (other.alpha_ != alpha_) {
    // Different bucket grids: re-add the other's representative values (error adds up).
    zero_count_ += other.zero_count_;
    count_ += other.zero_count_;
    for (size_t i = 0; i < other.buckets_.size(); ++i) {
      add(other.bucket_value(other.offset_ + static_cast<int>(i)), other.buckets_[i]);
    }
    return;
  }
  zero_count_ += other.zero_count_;
  count_ += other.count_;
  if (other.buckets_.empty()) return;
  if (buckets_.empty()) {
    offset_ = other.offset_;
    buckets_ = other.buckets_;
    return;
  }
  int lo = std::min(offset_, other.offset_);
  int hi = std::max(offset_ + static_cast<int>(buckets_.size()),
                    other.offset_ + static_cast<int>(other.buckets_.size()));
  if (lo < offset_) {
    buckets_.insert(buckets_.begin(), static_cast<size_t>(offset_ - lo), 0);
    offset_ = lo;
  }
  buckets_.resize(static_cast<size_t>(hi - offset_), 0);
  for (size_t i = 0; i < other.buckets_.size(); ++i) {
    buckets_[static_cast<size_t>(other.offset_ - offset_) + i] += other.buckets_[i];
  }
}

double QuantileSketch::quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(std::isnan(q) ? 0.0 : q, 0.0, 1.0);
  // 0-based index of the nearest-rank element.
  double rank = std::max(0.0, std::ceil(q * static_cast<double>(count_)) - 1.0);
  double seen = static_cast<double>(zero_count_);
  if (seen > rank) return 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += static_cast<double>(buckets_[i]);
    if (seen > rank) return bucket_value(offset_ + static_cast<int>(i));
  }
  return buckets_.empty() ? 0 : bucket_value(offset_ + static_cast<int>(buckets_.size()) - 1);
}

nlohmann::json QuantileSketch::to_json() const {
  return {{"relative_accuracy", alpha_},
          {"count", count_},
          {"zero_count", zero_count_},
          {"offset", offset_},
          {"counts", buckets_}};
}

QuantileSketch QuantileSketch::from_json(const nlohmann::json& j) {
  return guarded([&] {
  double alpha = get_member<double>(j, "relative_accuracy");
  if (!(alpha > 0 && alpha < 1)) parse_error("sketch relative_accuracy out of (0, 1)");
  QuantileSketch s(alpha);
  s.count_ = get_member<uint64_t>(j, "count");
  s.zero_count_ = get_member<uint64_t>(j, "zero_count");
  s.offset_ = get_member<int>(j, "offset");
  s.buckets_ = get_member<std::vector<uint64_t>>(j, "counts");
  uint64_t total = s.zero_count_;
  for (uint64_t c : s.buckets_) total += c;
  if (total != s.count_) parse_error("sketch counts do not add up to count");
  return s;
  });
}

// ---------------------------------------------------------------------------------------------
// OverdueHistogram

const std::vector<double>& OverdueHistogram::bounds() {
  static const std::vector<double> kBounds = {
      3600,         6 * 3600,      12 * 3600,     86400,         2 * 86400,  3 * 86400,
      7 * 86400,    14 * 86400,    30 * 86400,    90 * 86400,    365 * 86400};
  return kBounds;
}

void OverdueHistogram::add(double overdue_seconds, uint64_t n) {
  const auto& b = bounds();
  // `le` semantics: a value equal to a bound belongs to that bound's bucket.
  size_t i = static_cast<size_t>(std::lower_bound(b.begin(), b.end(), overdue_seconds) - b.begin());
  if (std::isnan(overdue_seconds)) i = b.size();
  counts_[i] += n;
  if (std::isfinite(overdue_seconds)) sum_ += overdue_seconds * static_cast<double>(n);
}

void OverdueHistogram::merge(const OverdueHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  sum_ += other.sum_;
}

std::vector<uint64_t> OverdueHistogram::cumulative() const {
  std::vector<uint64_t> out(counts_.size());
  uint64_t running = 0;
  for (size_t i = 0; i < counts_.size(); ++i) out[i] = running += counts_[i];
  return out;
}

nlohmann::json OverdueHistogram::to_json() const {
  nlohmann::json out = nlohmann::json::array();
  auto cum = cumulative();
  const auto& b = bounds();
  for (size_t i = 0; i < b.size(); ++i) {
    out.push_back({{"le", static_cast<int64_t>(b[i])}, {"count", cum[i]}});
  }
  out.push_back({{"le", "+Inf"}, {"count", cum.back()}});
  return out;
}

nlohmann::json OverdueHistogram::to_state() const { return {{"buckets", to_json()}, {"sum", sum_}}; }

OverdueHistogram OverdueHistogram::from_json(const nlohmann::json& j) {
  return guarded([&] {
  OverdueHistogram h;
  const nlohmann::json* buckets = &j;
  if (j.is_object()) {
    buckets = &j.at("buckets");
    h.sum_ = get_member<double>(j, "sum");
  }
  const auto& b = bounds();
  if (!buckets->is_array() || buckets->size() != b.size() + 1) {
    parse_error("histogram must have " + std::to_string(b.size() + 1) + " buckets");
  }
  uint64_t previous = 0;
  for (size_t i = 0; i < buckets->size(); ++i) {
    const auto& e = (*buckets)[i];
    const auto& le = e.contains("le") ? e.at("le") : nlohmann::json();
    bool le_ok = i < b.size() ? (le.is_number() && le.get<double>() == b[i])
                              : (le.is_string() && le.get<std::string>() == "+Inf");
    if (!le_ok) parse_error("histogram bucket " + std::to_string(i) + " has an unexpected le");
    auto cum = get_member<uint64_t>(e, "count");
    if (cum < previous) parse_error("histogram counts are not cumulative");
    h.counts_[i] = cum - previous;
    previous = cum;
  }
  return h;
  });
}

// ---------------------------------------------------------------------------------------------
// ItemRef, hashing

void to_json(nlohmann::json& j, const ItemRef& r) {
  j = nlohmann::json{{"key", r.key},
                     {"deadline", r.deadline},
                     {"deadline_at", format_rfc3339(static_cast<int64_t>(std::floor(r.deadline)))},
                     {"overdue_seconds", r.overdue_seconds}};
  if (r.bytes > 0) j["bytes"] = r.bytes;
}

void from_json(const nlohmann::json& j, ItemRef& r) {
  r.key = get_member<std::string>(j, "key");
  r.deadline = get_member<double>(j, "deadline");
  r.overdue_seconds = get_member<double>(j, "overdue_seconds");
  r.bytes = j.contains("bytes") ? get_member<uint64_t>(j, "bytes") : 0;
  r.priority = 0;
  if (j.contains("priority")) {
    const auto& p = j.at("priority");
    r.priority = p.is_string() ? parse_hex64(p.get<std::string>()) : get_member<uint64_t>(j, "priority");
  }
}

uint64_t seeded_hash(std::string_view key, uint64_t seed) {
  const auto* p = reinterpret_cast<const unsigned char*>(key.data());
  size_t n = key.size();
  uint64_t h = mix64(seed ^ 0x9e3779b97f4a7c15ULL) ^ (static_cast<uint64_t>(n) * 0xff51afd7ed558ccdULL);
  while (n >= 8) {
    h = (h ^ mix64(load_le(p, 8))) * 0x9fb21c651e98df25ULL;
    h = (h << 29) | (h >> 35);
    p += 8;
    n -= 8;
  }
  if (n > 0) h = (h ^ mix64(load_le(p, n) ^ (static_cast<uint64_t>(n) << 59))) * 0x9fb21c651e98df25ULL;
  return mix64(h);
}

std::string redact_key(std::string_view key, uint64_t seed) {
  return "hash:" + hex64(seeded_hash(key, seed ^ kRedactSalt));
}

// ---------------------------------------------------------------------------------------------
// TopGroups

TopGroups::TopGroups(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

void TopGroups::add(std::string_view group, uint64_t n) {
  if (n == 0) return;
  auto it = counts_.find(group);
  if (it != counts_.end()) {
    it->second += n;
    return;
  }
  counts_.emplace(std::string(group), n);
  if (counts_.size() > 2 * capacity_) shrink();
}

void TopGroups::merge(const TopGroups& other) {
  for (const auto& [group, n] : other.counts_) {
    auto it = counts_.find(group);
    if (it != counts_.end()) it->second += n;
    else counts_.emplace(group, n);
  }
  error_ += other.error_;
  if (counts_.size() > 2 * capacity_) shrink();
}

// Subtract the (capacity+1)-th largest count c from every counter and drop those reaching 0.
// Each such step removes at least (capacity+1)*c from the total, hence error <= N/(capacity+1).
void TopGroups::shrink() {
  if (counts_.size() <= capacity_) return;
  std::vector<uint64_t> values;
  values.reserve(counts_.size());
  for (const auto& kv : counts_) values.push_back(kv.second);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(capacity_),
                   values.end(), std::greater<>());
  uint64_t cut = values[capacity_];
  for (auto it = counts_.begin(); it != counts_.end();) {
    if (it->second <= cut) {
      it = counts_.erase(it);
    } else {
      it->second -= cut;
      ++it;
    }
  }
  error_ += cut;
}

std::vector<std::pair<std::string, uint64_t>> TopGroups::top(size_t k) const {
  std::vector<std::pair<std::string, uint64_t>> all(counts_.begin(), counts_.end());
  auto by_count = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  if (k < all.size()) {
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end(), by_count);
    all.resize(k);
  } else {
    std::sort(all.begin(), all.end(), by_count);
  }
  return all;
}

nlohmann::json TopGroups::to_json() const {
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [group, n] : counts_) counts[group] = n;
  return {{"capacity", capacity_}, {"error", error_}, {"counts", counts}};
}

TopGroups TopGroups::from_json(const nlohmann::json& j) {
  return guarded([&] {
  TopGroups g(get_member<size_t>(j, "capacity"));
  g.error_ = get_member<uint64_t>(j, "error");
  const auto& counts = j.at("counts");
  if (!counts.is_object()) parse_error("groups counts must be an object");
  for (const auto& [group, n] : counts.items()) {
    if (!n.is_number_unsigned()) parse_error("group count must be a non-negative integer");
    g.counts_.emplace(group, n.get<uint64_t>());
  }
  return g;
  });
}

// ---------------------------------------------------------------------------------------------
// TargetStats

TargetStats::TargetStats(StatsOptions options) : options_(options) {
  oldest_.reserve(options_.k);
  reservoir_.reserve(options_.k);
}

void TargetStats::add_expired(std::string_view key, double deadline, double overdue_seconds,
                              uint64_t bytes, std::string_view group) {
  if (sketch_.count() == 0) {
    min_overdue_ = max_overdue_ = overdue_seconds;
  } else {
    min_overdue_ = std::min(min_overdue_, overdue_seconds);
    max_overdue_ = std::max(max_overdue_, overdue_seconds);
  }
  class_counts_[static_cast<size_t>(ItemClass::kExpired)] += 1;
  expired_bytes_ += bytes;
  sketch_.add(overdue_seconds);
  histogram_.add(overdue_seconds);
  if (!group.empty()) groups_.add(group);

  const size_t k = options_.k;
  if (k == 0) return;
  const uint64_t priority = seeded_hash(key, options_.seed);
  // Decide membership from numbers alone; the key string is built only for an entering item.
  bool to_oldest = oldest_.size() < k ||
                   oldest_before(overdue_seconds, priority, deadline, bytes, oldest_.front());
  bool to_sample = reservoir_.size() < k ||
                   sample_before(overdue_seconds, priority, deadline, bytes, reservoir_.front());
  if (!to_oldest && !to_sample) return;
  ItemRef item{options_.redact_keys ? redact_key(key, options_.seed) : std::string(key), deadline,
               overdue_seconds, bytes, priority};
  if (to_oldest && to_sample) {
    offer(oldest_, k, item, [](const ItemRef& a, const ItemRef& b) { return oldest_before(a, b); });
  } else if (to_oldest) {
    offer(oldest_, k, std::move(item),
          [](const ItemRef& a, const ItemRef& b) { return oldest_before(a, b); });
    return;
  }
  offer(reservoir_, k, std::move(item),
        [](const ItemRef& a, const ItemRef& b) { return sample_before(a, b); });
}

void TargetStats::merge(const TargetStats& other) {
  for (size_t i = 0; i < class_counts_.size(); ++i) class_counts_[i] += other.class_counts_[i];
  expired_bytes_ += other.expired_bytes_;
  if (other.sketch_.count() > 0) {
    if (sketch_.count() == 0) {
      min_overdue_ = other.min_overdue_;
      max_overdue_ = other.max_overdue_;
    } else {
      min_overdue_ = std::min(min_overdue_, other.min_overdue_);
      max_overdue_ = std::max(max_overdue_, other.max_overdue_);
    }
  }
  sketch_.merge(other.sketch_);
  histogram_.merge(other.histogram_);
  for (const ItemRef& r : other.oldest_) {
    offer(oldest_, options_.k, r, [](const ItemRef& a, const ItemRef& b) { return oldest_before(a, b); });
  }
  for (const ItemRef& r : other.reservoir_) {
    offer(reservoir_, options_.k, r,
          [](const ItemRef& a, const ItemRef& b) { return sample_before(a, b); });
  }
  groups_.merge(other.groups_);
}

std::vector<ItemRef> TargetStats::oldest_items() const {
  std::vector<ItemRef> out = oldest_;
  std::sort(out.begin(), out.end(), [](const ItemRef& a, const ItemRef& b) { return oldest_before(a, b); });
  return out;
}

std::vector<ItemRef> TargetStats::sample_items() const {
  // Shown like oldest_items (most overdue first); membership is by priority.
  std::vector<ItemRef> out = reservoir_;
  std::sort(out.begin(), out.end(), [](const ItemRef& a, const ItemRef& b) { return oldest_before(a, b); });
  return out;
}

std::vector<std::pair<std::string, uint64_t>> TargetStats::top_groups() const {
  return groups_.top(options_.top_groups);
}

nlohmann::json TargetStats::to_state() const {
  nlohmann::json counts = nlohmann::json::object();
  for (int i = 0; i < kItemClassCount; ++i) {
    counts[std::string(class_name(static_cast<ItemClass>(i)))] = class_counts_[static_cast<size_t>(i)];
  }
  nlohmann::json oldest = nlohmann::json::array();
  for (const ItemRef& r : oldest_items()) oldest.push_back(item_state(r));
  std::vector<ItemRef> sample = reservoir_;
  std::sort(sample.begin(), sample.end(), [](const ItemRef& a, const ItemRef& b) { return sample_before(a, b); });
  nlohmann::json reservoir = nlohmann::json::array();
  for (const ItemRef& r : sample) reservoir.push_back(item_state(r));
  return {{"version", 1},
          {"options",
           {{"k", options_.k},
            {"seed", options_.seed},
            {"redact_keys", options_.redact_keys},
            {"top_groups", options_.top_groups}}},
          {"class_counts", counts},
          {"expired_bytes", expired_bytes_},
          {"min_overdue_seconds", min_overdue_},
          {"max_overdue_seconds", max_overdue_},
          {"sketch", sketch_.to_json()},
          {"histogram", histogram_.to_state()},
          {"oldest", oldest},
          {"reservoir", reservoir},
          {"groups", groups_.to_json()}};
}

TargetStats TargetStats::from_state(const nlohmann::json& j) {
  return guarded([&] {
  if (!j.is_object()) parse_error("state must be an object");
  if (get_member<int>(j, "version") != 1) parse_error("unsupported state version");
  const auto& o = j.at("options");
  StatsOptions options;
  options.k = get_member<size_t>(o, "k");
  options.seed = get_member<uint64_t>(o, "seed");
  options.redact_keys = get_member<bool>(o, "redact_keys");
  options.top_groups = get_member<size_t>(o, "top_groups");
  TargetStats s(options);
  const auto& counts = j.at("class_counts");
  for (int i = 0; i < kItemClassCount; ++i) {
    s.class_counts_[static_cast<size_t>(i)] =
        get_member<uint64_t>(counts, std::string(class_name(static_cast<ItemClass>(i))).c_str());
  }
  s.expired_bytes_ = get_member<uint64_t>(j, "expired_bytes");
  s.min_overdue_ = get_member<double>(j, "min_overdue_seconds");
  s.max_overdue_ = get_member<double>(j, "max_overdue_seconds");
  s.sketch_ = QuantileSketch::from_json(j.at("sketch"));
  s.histogram_ = OverdueHistogram::from_json(j.at("histogram"));
  auto read_items = [&](const char* name, std::vector<ItemRef>& heap, auto before) {
    const auto& arr = j.at(name);
    if (!arr.is_array()) parse_error(std::string(name) + " must be an array");
    for (const auto& e : arr) offer(heap, options.k, e.get<ItemRef>(), before);
  };
  read_items("oldest", s.oldest_, [](const ItemRef& a, const ItemRef& b) { return oldest_before(a, b); });
  read_items("reservoir", s.reservoir_,
             [](const ItemRef& a, const ItemRef& b) { return sample_before(a, b); });
  s.groups_ = TopGroups::from_json(j.at("groups"));
  return s;
  });
}

// ---------------------------------------------------------------------------------------------
// Server-side aggregation (SQL sources)

namespace {
ItemRef make_item(std::string_view key, double deadline, double overdue_seconds, uint64_t bytes,
                  const StatsOptions& options) {
  return ItemRef{options.redact_keys ? redact_key(key, options.seed) : std::string(key), deadline,
                 overdue_seconds, bytes, seeded_hash(key, options.seed)};
}
}  // namespace

void TargetStats::add_expired_range(uint64_t n, double min_overdue, double max_overdue,
                                    uint64_t bytes) {
  if (n == 0) return;
  if (sketch_.count() == 0) {
    min_overdue_ = min_overdue;
    max_overdue_ = max_overdue;
  } else {
    min_overdue_ = std::min(min_overdue_, min_overdue);
    max_overdue_ = std::max(max_overdue_, max_overdue);
  }
  class_counts_[static_cast<size_t>(ItemClass::kExpired)] += n;
  expired_bytes_ += bytes;
  // The range is one fine bucket, so its midpoint stands for every value in it within the
  // sketch's accuracy; the histogram bucket is the midpoint's, exact when the caller grouped by
  // histogram bucket too.
  const double mid = (min_overdue + max_overdue) / 2;
  sketch_.add(mid, n);
  histogram_.add(mid, n);
}

void TargetStats::offer_oldest(std::string_view key, double deadline, double overdue_seconds,
                               uint64_t bytes) {
  if (options_.k == 0) return;
  offer(oldest_, options_.k, make_item(key, deadline, overdue_seconds, bytes, options_),
        [](const ItemRef& a, const ItemRef& b) { return oldest_before(a, b); });
}

void TargetStats::offer_sample(std::string_view key, double deadline, double overdue_seconds,
                               uint64_t bytes) {
  if (options_.k == 0) return;
  offer(reservoir_, options_.k, make_item(key, deadline, overdue_seconds, bytes, options_),
        [](const ItemRef& a, const ItemRef& b) { return sample_before(a, b); });
}

}  // namespace ttla
