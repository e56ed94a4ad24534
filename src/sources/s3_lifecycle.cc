#include "sources/s3_lifecycle.h"

#include <algorithm>

#include "core/time.h"

namespace ttla::s3 {
namespace {

constexpr int64_t kDay = 86400;

std::string id_of(const LifecycleRule& r) { return r.id.empty() ? std::string("(no id)") : r.id; }

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

bool has_size_filter(const LifecycleRule& r) {
  return r.object_size_greater_than.has_value() || r.object_size_less_than.has_value();
}

void min_into(std::optional<int64_t>& into, int64_t v) {
  if (!into || v < *into) into = v;
}

}  // namespace

int64_t lifecycle_deadline(int64_t created, int64_t days) {
  return round_up_to_midnight_utc(created + days * kDay);
}

int64_t lifecycle_deadline_seconds(int64_t created, int64_t seconds) {
  return round_up_to_midnight_utc(created + seconds);
}

bool rule_matches(const LifecycleRule& rule, std::string_view key, std::optional<uint64_t> size) {
  if (!starts_with(key, rule.prefix)) return false;
  if (has_size_filter(rule)) {
    if (!size) return false;
    if (rule.object_size_greater_than && !(*size > *rule.object_size_greater_than)) return false;
    if (rule.object_size_less_than && !(*size < *rule.object_size_less_than)) return false;
  }
  return true;
}

bool rule_overlaps(const LifecycleRule& rule, std::string_view prefix) {
  return starts_with(prefix, rule.prefix) || starts_with(rule.prefix, prefix);
}

namespace {
// Every tag of the rule is among the object's (null: tags unknown, so a tag rule never matches).
bool tags_hold(const LifecycleRule& r, const std::vector<LifecycleTag>* tags) {
  if (r.tags.empty()) return true;
  if (tags == nullptr) return false;
  for (const LifecycleTag& want : r.tags) {
    if (std::find(tags->begin(), tags->end(), want) == tags->end()) return false;
  }
  return true;
}
}  // namespace

Lifecycle::Lifecycle(const std::vector<LifecycleRule>& rules, std::string_view prefix,
                     bool evaluate_tags)
    : evaluate_tags_(evaluate_tags) {
  for (const LifecycleRule& r : rules) {
    if (!rule_overlaps(r, prefix)) continue;
    if (!r.enabled) {
      disabled_ids_.push_back(id_of(r));
      continue;
    }
    const bool expires = r.expiration_days.has_value() || r.expiration_date.has_value();
    if (expires) can_expire_ = true;
    if (!r.tags.empty() && !evaluate_tags) {
      not_evaluated_.push_back(id_of(r) + ": Tag");
      continue;
    }
    any_expiration_ = any_expiration_ || expires;
    any_noncurrent_ = any_noncurrent_ || r.noncurrent_days.has_value();
    any_delete_marker_ = any_delete_marker_ || r.expired_object_delete_marker;
    applied_ids_.push_back(id_of(r));
    rules_.push_back(r);
  }
}

bool Lifecycle::needs_tags(std::string_view key, uint64_t size) const {
  for (const LifecycleRule& r : rules_) {
    if (!r.tags.empty() && (r.expiration_days || r.expiration_date) && rule_matches(r, key, size)) {
      return true;
    }
  }
  return false;
}

std::optional<int64_t> Lifecycle::expiration_deadline(std::string_view key, uint64_t size,
                                                      int64_t created,
                                                      const std::vector<LifecycleTag>* tags) const {
  std::optional<int64_t> deadline;
  for (const LifecycleRule& r : rules_) {
    if (!rule_matches(r, key, size) || !tags_hold(r, tags)) continue;
    if (r.expiration_days) min_into(deadline, lifecycle_deadline(created, *r.expiration_days));
    // A dated rule expires everything it matches from that day on, later objects included.
    if (r.expiration_date) min_into(deadline, std::max(*r.expiration_date, created));
  }
  return deadline;
}

std::optional<int64_t> Lifecycle::noncurrent_deadline(std::string_view key, uint64_t size,
                                                      int64_t since,
                                                      uint64_t newer_noncurrent) const {
  std::optional<int64_t> deadline;
  for (const LifecycleRule& r : rules_) {
    if (!r.noncurrent_days || !rule_matches(r, key, size) || !r.tags.empty()) continue;
    // NewerNoncurrentVersions N: the N newest noncurrent versions are kept whatever their age.
    if (r.newer_noncurrent_versions &&
        static_cast<int64_t>(newer_noncurrent) < *r.newer_noncurrent_versions) {
      continue;
    }
    min_into(deadline, lifecycle_deadline(since, *r.noncurrent_days));
  }
  return deadline;
}

std::optional<int64_t> Lifecycle::abort_deadline(std::string_view key, int64_t initiated) const {
  std::optional<int64_t> deadline;
  for (const LifecycleRule& r : rules_) {
    if (!r.abort_multipart_days || !rule_matches(r, key, std::nullopt) || !r.tags.empty()) continue;
    min_into(deadline, lifecycle_deadline(initiated, *r.abort_multipart_days));
  }
  return deadline;
}

bool Lifecycle::removes_lone_delete_marker(std::string_view key) const {
  for (const LifecycleRule& r : rules_) {
    if (r.expired_object_delete_marker && r.tags.empty() && rule_matches(r, key, uint64_t{0})) {
      return true;
    }
  }
  return false;
}

void order_version_page(std::vector<VersionEntry>& entries) {
  std::stable_sort(entries.begin(), entries.end(), [](const VersionEntry& a, const VersionEntry& b) {
    if (a.key != b.key) return a.key < b.key;
    if (a.is_latest != b.is_latest) return a.is_latest;
    return a.last_modified > b.last_modified;
  });
}

NoncurrentWalker::NoncurrentWalker(int64_t as_of, std::optional<int64_t> retention_seconds,
                                   const Lifecycle* lifecycle)
    : as_of_(as_of), retention_seconds_(retention_seconds), lifecycle_(lifecycle) {}

void NoncurrentWalker::end_key() {
  if (have_key_ && entries_in_key_ == 1 && first_is_marker_) {
    ++result_.delete_markers_lone;
    if (lifecycle_ != nullptr && lifecycle_->removes_lone_delete_marker(key_)) {
      ++result_.delete_markers_lone_expired;
    }
  }
}

void NoncurrentWalker::add(const VersionEntry& e) {
  if (!have_key_ || e.key != key_) {
    end_key();
    key_ = e.key;
    have_key_ = true;
    entries_in_key_ = 0;
    noncurrent_in_key_ = 0;
    first_is_marker_ = e.delete_marker;
  }
  ++entries_in_key_;
  if (e.delete_marker) {
    ++result_.delete_markers;
  } else {
    ++result_.versions;
  }
  // The newest entry of a key is current; every later one became noncurrent when the entry
  // listed just before it (the next newer one) was created.
  if (entries_in_key_ > 1 && !e.is_latest && !e.delete_marker) {
    ++result_.noncurrent;
    result_.noncurrent_bytes += e.size;
    const int64_t since = newer_time_;
    std::optional<int64_t> deadline;
    if (retention_seconds_) {
      deadline = lifecycle_deadline_seconds(since, *retention_seconds_);
    } else if (lifecycle_ != nullptr) {
      deadline = lifecycle_->noncurrent_deadline(e.key, e.size, since, noncurrent_in_key_);
    }
    ++noncurrent_in_key_;
    if (deadline && *deadline <= as_of_) {
      ++result_.expired_count;
      result_.expired_bytes += e.size;
      if (result_.oldest_expired_deadline == 0 || *deadline < result_.oldest_expired_deadline) {
        result_.oldest_expired_deadline = *deadline;
      }
    }
  }
  newer_time_ = e.last_modified;
}

void NoncurrentWalker::finish() {
  end_key();
  have_key_ = false;
}

}  // namespace ttla::s3
