#pragma once
// Pure parsers of the S3 REST XML answers the s3 source reads (pugixml, no I/O), plus lifecycle
// rule selection for a prefix and the noncurrent-version walk. Unit-tested on fixtures in
// tests/fixtures/s3/ shaped as AWS documents them. Every parser throws ttla::Error(kParse) on a
// body it cannot understand, naming the operation.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ttla::s3 {

// "2026-11-22T03:12:56.000Z" -> epoch seconds (fraction truncated). Throws kParse.
int64_t parse_s3_time(std::string_view text);
// Undo `encoding-type=url` (form encoding: '+' is a space, %XX bytes). Malformed escapes are
// kept literally.
std::string url_decode(std::string_view text);

struct ObjectEntry {
  std::string key;
  int64_t last_modified = 0;
  uint64_t size = 0;
};

struct ListObjectsPage {
  std::vector<ObjectEntry> objects;
  bool truncated = false;
  std::string next_continuation_token;  // never url-encoded by S3
};
// ListObjectsV2. Keys are decoded when the answer says <EncodingType>url</EncodingType>.
ListObjectsPage parse_list_objects_v2(std::string_view xml);

struct UploadEntry {
  std::string key;
  std::string upload_id;
  int64_t initiated = 0;
};

struct ListUploadsPage {
  std::vector<UploadEntry> uploads;
  bool truncated = false;
  std::string next_key_marker;  // decoded
  std::string next_upload_id_marker;
};
ListUploadsPage parse_list_multipart_uploads(std::string_view xml);

struct VersionEntry {
  std::string key;
  std::string version_id;
  bool is_latest = false;
  bool delete_marker = false;
  int64_t last_modified = 0;
  uint64_t size = 0;  // 0 for delete markers
};

struct ListVersionsPage {
  // Versions and DeleteMarkers in document order: S3 lists one key's entries newest first,
  // interleaving the two element kinds, which is what the noncurrent walk relies on.
  std::vector<VersionEntry> entries;
  bool truncated = false;
  std::string next_key_marker;  // decoded
  std::string next_version_id_marker;
};
ListVersionsPage parse_list_object_versions(std::string_view xml);

struct ListPartsPage {
  uint64_t bytes = 0;  // sum of Part/Size on this page
  uint64_t parts = 0;
  bool truncated = false;
  std::string next_part_number_marker;
};
ListPartsPage parse_list_parts(std::string_view xml);

// GetBucketVersioning: "Enabled", "Suspended" or "" (never enabled: the element is absent).
std::string parse_versioning_status(std::string_view xml);

struct LifecycleRule {
  std::string id;
  bool enabled = false;
  std::string prefix;  // Filter/Prefix, Filter/And/Prefix or the legacy top-level Prefix
  // Filter parts the auditor cannot evaluate from a listing ("Tag", "ObjectSizeGreaterThan",
  // "ObjectSizeLessThan"): a rule with any of them is reported, never applied.
  std::vector<std::string> unevaluated_filters;
  std::optional<int64_t> expiration_days;
  std::optional<int64_t> expiration_date;  // epoch seconds
  bool expired_object_delete_marker = false;
  std::optional<int64_t> noncurrent_days;
  std::optional<int64_t> newer_noncurrent_versions;
  std::optional<int64_t> abort_multipart_days;
};

// GetBucketLifecycleConfiguration. Throws kParse when the root is not <LifecycleConfiguration>
// (Swift's s3api, for one, answers ?lifecycle with an object listing).
std::vector<LifecycleRule> parse_lifecycle(std::string_view xml);
// True when the body's root element is <LifecycleConfiguration>.
bool is_lifecycle_document(std::string_view xml);

struct ErrorBody {
  std::string code;
  std::string message;
};
// <Error><Code>..</Code><Message>..</Message></Error>; nullopt for anything else.
std::optional<ErrorBody> parse_error(std::string_view xml);

// The enabled, evaluable rules that can match a key under `prefix`, split by reach.
struct PrefixRules {
  std::vector<const LifecycleRule*> covering;  // rule prefix is a prefix of `prefix`: all keys
  std::vector<const LifecycleRule*> partial;   // rule prefix extends `prefix`: some keys
  std::vector<std::string> applied_ids;        // ids of covering + partial rules
  std::vector<std::string> not_evaluated;      // "<id>: Tag" for rules skipped for their filter
};
PrefixRules select_rules(const std::vector<LifecycleRule>& rules, std::string_view prefix);

// What lifecycle says for one key (the earliest deadline wins when several rules match: the
// first rule to fire removes the object).
struct KeyPolicy {
  std::optional<int64_t> expiration_days;
  std::optional<int64_t> expiration_date;
  std::optional<int64_t> noncurrent_days;
  std::optional<int64_t> newer_noncurrent_versions;
  std::optional<int64_t> abort_multipart_days;
};
KeyPolicy policy_for_key(const PrefixRules& rules, std::string_view key);

// Lifecycle deadline: created + days, rounded up to the next 00:00 UTC.
int64_t lifecycle_deadline(int64_t created, int64_t days);
// The same for a configured duration in seconds (retention: 36h).
int64_t lifecycle_deadline_seconds(int64_t created, int64_t seconds);

// Walks ListObjectVersions entries (across pages, in order) and derives noncurrent versions:
// a version becomes noncurrent when the next newer version or delete marker of the same key was
// created. Lone delete markers (a latest marker with nothing behind it) are counted when the key
// ends. Retention comes from `retention_seconds` (config) or, per key, the policy callback.
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
    int64_t oldest_expired_deadline = 0;  // 0 when none
  };
  // `days_for_key` returns {noncurrent days, newer_noncurrent_versions} for a key, or nullopt
  // when no retention applies; used only when `retention_seconds` is not set.
  using DaysForKey = std::optional<std::pair<int64_t, std::optional<int64_t>>> (*)(
      const void* ctx, std::string_view key);
  NoncurrentWalker(int64_t as_of, std::optional<int64_t> retention_seconds,
                   DaysForKey days_for_key = nullptr, const void* ctx = nullptr);
  void add(const VersionEntry& e);
  // Ends the last key (call once after the last page).
  void finish();
  const Result& result() const { return result_; }

 private:
  void end_key();
  int64_t as_of_;
  std::optional<int64_t> retention_seconds_;
  DaysForKey days_for_key_;
  const void* ctx_;
  Result result_;
  std::string key_;
  bool have_key_ = false;
  int64_t newer_time_ = 0;       // LastModified of the previous (newer) entry of this key
  uint64_t entries_in_key_ = 0;
  bool first_is_marker_ = false;
  uint64_t noncurrent_in_key_ = 0;
  std::optional<std::pair<int64_t, std::optional<int64_t>>> key_days_;
};

}  // namespace ttla::s3
