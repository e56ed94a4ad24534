#pragma once
// Lifecycle evaluation for an audited bucket prefix: pure functions over parsed rules
// (s3_xml.h) and listed entries, no I/O. S3's semantics as AWS documents them:
// - a rule applies to an object when its prefix (Filter.Prefix, And.Prefix or the legacy
//   rule-level Prefix) starts the key, its ObjectSizeGreaterThan / ObjectSizeLessThan hold
//   (strict) for the listed size, and every Tag matches; Status Disabled rules never apply;
// - Expiration.Days: creation + N days rounded up to the next 00:00 UTC; Expiration.Date: that
//   day, for objects created after it too (they go at the next run);
// - NoncurrentVersionExpiration: becoming noncurrent + NoncurrentDays, once more than
//   NewerNoncurrentVersions newer noncurrent versions exist;
// - ExpiredObjectDeleteMarker: a delete marker with no version behind it is removed;
// - several rules matching one object: the earliest deadline wins (the first to fire removes it).
// Tags are not in listings: rules with a Tag filter are reported as not evaluated and not applied,
// unless the caller reads tags (GetObjectTagging, a request per object) and passes them in; then
// they apply to current objects whose tags include every Tag of the rule.
// Multipart uploads have no size until completed: size-filtered rules do not abort them.
// Delete markers have no size: they are matched as zero-byte entries.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/s3_xml.h"

namespace ttla::s3 {

// Lifecycle deadline: created + days, rounded up to the next 00:00 UTC.
int64_t lifecycle_deadline(int64_t created, int64_t days);
// The same for a configured duration in seconds (retention: 36h).
int64_t lifecycle_deadline_seconds(int64_t created, int64_t seconds);

// The key and size conditions of a rule (its tags aside). `size` nullopt: size unknown, so a
// size-filtered rule does not match.
bool rule_matches(const LifecycleRule& rule, std::string_view key, std::optional<uint64_t> size);
// True when the rule can match some key under `prefix` (its prefix starts `prefix` or extends it).
bool rule_overlaps(const LifecycleRule& rule, std::string_view prefix);

class Lifecycle {
 public:
  Lifecycle() = default;
  // Keeps the rules that can match keys under `prefix`. `evaluate_tags`: tag-filtered rules are
  // applied to objects whose tags are passed to expiration_deadline().
  Lifecycle(const std::vector<LifecycleRule>& rules, std::string_view prefix,
            bool evaluate_tags = false);

  // Enabled rules applied under the prefix, in document order (ids; "(no id)" when empty).
  const std::vector<std::string>& applied_ids() const { return applied_ids_; }
  // "<id>: Tag" for enabled rules with tag filters: not evaluated, not applied (empty when tags
  // are evaluated).
  const std::vector<std::string>& not_evaluated() const { return not_evaluated_; }
  // Disabled rules overlapping the prefix (ignored).
  const std::vector<std::string>& disabled_ids() const { return disabled_ids_; }
  // Some enabled rule (tag-filtered ones included) with Expiration Days or Date can match keys
  // under the prefix. `lifecycle_missing` is its negation.
  bool can_expire() const { return can_expire_; }
  // Some applied rule has an Expiration Days or Date / a NoncurrentVersionExpiration /
  // ExpiredObjectDeleteMarker.
  bool any_expiration() const { return any_expiration_; }
  bool any_noncurrent() const { return any_noncurrent_; }
  bool any_delete_marker() const { return any_delete_marker_; }
  bool evaluates_tags() const { return evaluate_tags_; }
  // A tag-filtered rule could apply to this object (its prefix and sizes hold): only the object's
  // tags can tell. Always false when tags are not evaluated.
  bool needs_tags(std::string_view key, uint64_t size) const;

  // The earliest expiration deadline of a current object, or nullopt when no rule expires it.
  // `tags`: the object's tags when read (tag-filtered rules then apply), else null.
  std::optional<int64_t> expiration_deadline(std::string_view key, uint64_t size, int64_t created,
                                             const std::vector<LifecycleTag>* tags = nullptr) const;
  // Noncurrent version: noncurrent since `since`, with `newer_noncurrent` noncurrent versions
  // of the same key newer than it.
  std::optional<int64_t> noncurrent_deadline(std::string_view key, uint64_t size, int64_t since,
                                             uint64_t newer_noncurrent) const;
  std::optional<int64_t> abort_deadline(std::string_view key, int64_t initiated) const;
  // A rule with ExpiredObjectDeleteMarker applies to a lone delete marker of this key.
  bool removes_lone_delete_marker(std::string_view key) const;

 private:
  // Enabled rules overlapping the prefix; tag-filtered ones only when tags are evaluated.
  std::vector<LifecycleRule> rules_;
  bool evaluate_tags_ = false;
  std::vector<std::string> applied_ids_;
  std::vector<std::string> not_evaluated_;
  std::vector<std::string> disabled_ids_;
  bool can_expire_ = false;
  bool any_expiration_ = false;
  bool any_noncurrent_ = false;
  bool any_delete_marker_ = false;
};

// Puts one ListObjectVersions page in the order the walker needs: keys in byte order, each key's
// entries newest first (IsLatest first, then LastModified descending; ties keep their order).
// AWS already answers so, interleaving Version and DeleteMarker elements; moto lists every
// Version first and the DeleteMarkers after them.
void order_version_page(std::vector<VersionEntry>& entries);

// Walks ListObjectVersions entries (across pages, in order) and derives noncurrent versions:
// a version becomes noncurrent when the next newer version or delete marker of the same key was
// created. Lone delete markers (a latest marker with nothing behind it) are counted when the key
// ends. Retention comes from `retention_seconds` (config) or else from `lifecycle` (may be null).
class NoncurrentWalker {
 public:
  struct Result {
    uint64_t versions = 0;             // all Version entries seen (current + noncurrent)
    uint64_t noncurrent = 0;           // noncurrent Version entries
    uint64_t noncurrent_bytes = 0;
    uint64_t expired_count = 0;        // noncurrent versions past their deadline
    uint64_t expired_bytes = 0;
    uint64_t delete_markers = 0;
    uint64_t delete_markers_lone = 0;
    uint64_t delete_markers_lone_expired = 0;  // lone markers an ExpiredObjectDeleteMarker rule removes
    int64_t oldest_expired_deadline = 0;  // 0 when none
  };
  NoncurrentWalker(int64_t as_of, std::optional<int64_t> retention_seconds,
                   const Lifecycle* lifecycle = nullptr);
  void add(const VersionEntry& e);
  // Ends the last key (call once after the last page).
  void finish();
  const Result& result() const { return result_; }

 private:
  void end_key();
  int64_t as_of_;
  std::optional<int64_t> retention_seconds_;
  const Lifecycle* lifecycle_;
  Result result_;
  std::string key_;
  bool have_key_ = false;
  int64_t newer_time_ = 0;       // LastModified of the previous (newer) entry of this key
  uint64_t entries_in_key_ = 0;
  bool first_is_marker_ = false;
  uint64_t noncurrent_in_key_ = 0;
};

}  // namespace ttla::s3
