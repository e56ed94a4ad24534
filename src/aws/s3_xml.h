#pragma once
// Pure parsers of the S3 REST XML answers the s3 source reads (pugixml, no I/O); error bodies
// are read by aws/error_body.h. Tolerant as
// the SDKs are: members are read by name (namespace prefixes ignored) whatever the root element
// is called, unknown elements are ignored, and a body that is an error document is reported as
// that error. Lifecycle evaluation lives in sources/s3_lifecycle.h. Unit-tested on fixtures in
// tests/fixtures/s3/ (AWS's documented shapes and other servers' variants). Every parser throws
// ttla::Error(kParse) on a body it cannot understand, naming the operation.
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

// ListBuckets (ListAllMyBucketsResult): bucket names, and the ContinuationToken of the next
// page ("" on the last one; servers without pagination never send one).
struct ListBucketsPage {
  std::vector<std::string> names;
  std::string continuation_token;
};
ListBucketsPage parse_list_buckets(std::string_view xml);

// GetBucketVersioning: "Enabled", "Suspended" or "" (never enabled: the element is absent).
// The root element's name is not checked: AWS answers <VersioningConfiguration>, moto
// <GetBucketVersioningResponse>; the SDKs read the Status member wherever the root is.
std::string parse_versioning_status(std::string_view xml);

struct LifecycleTag {
  std::string key;
  std::string value;
  bool operator==(const LifecycleTag&) const = default;
};

struct LifecycleRule {
  std::string id;
  bool enabled = false;  // Status Enabled; Disabled rules are kept (reported) but never applied
  std::string prefix;    // Filter/Prefix, Filter/And/Prefix or the legacy rule-level Prefix
  std::vector<LifecycleTag> tags;                   // Filter/Tag or Filter/And/Tag
  std::optional<uint64_t> object_size_greater_than;  // bytes, strict
  std::optional<uint64_t> object_size_less_than;     // bytes, strict
  std::optional<int64_t> expiration_days;
  std::optional<int64_t> expiration_date;  // epoch seconds
  bool expired_object_delete_marker = false;
  std::optional<int64_t> noncurrent_days;
  std::optional<int64_t> newer_noncurrent_versions;
  std::optional<int64_t> abort_multipart_days;
};

// GetBucketLifecycleConfiguration: the Rule members of the root, whatever the root is named.
// Throws kParse on a document that is not a lifecycle configuration (Swift's s3api, for one,
// answers ?lifecycle with an object listing) and on malformed numbers or dates.
std::vector<LifecycleRule> parse_lifecycle(std::string_view xml);
// True when the body is a lifecycle configuration: it has Rule members, or its root is named
// like one (…LifecycleConfiguration…), and it is neither an error nor a listing.
bool is_lifecycle_document(std::string_view xml);

// GetObjectTagging: <Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>.
std::vector<LifecycleTag> parse_object_tagging(std::string_view xml);

// The region an answer says the bucket lives in, or "" when it says nothing: the
// x-amz-bucket-region header (301 PermanentRedirect, 400, HeadBucket) first, then the <Region>
// of an AuthorizationHeaderMalformed body. `header` may be null.
std::string region_hint(long status, const std::string* header, std::string_view body);

}  // namespace ttla::s3
