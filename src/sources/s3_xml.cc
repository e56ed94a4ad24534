#include "sources/s3_xml.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include <pugixml.hpp>

#include "core/error.h"
#include "core/time.h"

namespace ttla::s3 {
namespace {

constexpr int64_t kDay = 86400;

pugi::xml_document load(std::string_view xml, const char* operation) {
  pugi::xml_document doc;
  pugi::xml_parse_result r = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default,
                                             pugi::encoding_utf8);
  if (!r) {
    throw Error(ErrorKind::kParse, std::string(operation) + ": malformed XML (" +
                                       r.description() + " at offset " +
                                       std::to_string(r.offset) + ")");
  }
  return doc;
}

pugi::xml_node root_named(const pugi::xml_document& doc, const char* name, const char* operation) {
  pugi::xml_node root = doc.document_element();
  if (std::strcmp(root.name(), name) != 0) {
    throw Error(ErrorKind::kParse, std::string(operation) + ": expected <" + name + ">, got <" +
                                       root.name() + ">");
  }
  return root;
}

std::string text_of(const pugi::xml_node& parent, const char* child) {
  return parent.child(child).text().as_string();
}

bool bool_of(const pugi::xml_node& parent, const char* child) {
  std::string_view v = parent.child(child).text().as_string();
  return v == "true";
}

uint64_t u64_of(const pugi::xml_node& parent, const char* child, const char* operation) {
  std::string_view v = parent.child(child).text().as_string();
  if (v.empty()) return 0;
  uint64_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size()) {
    throw Error(ErrorKind::kParse, std::string(operation) + ": bad <" + child + "> \"" +
                                       std::string(v) + "\"");
  }
  return out;
}

std::optional<int64_t> days_of(const pugi::xml_node& parent, const char* child) {
  pugi::xml_node n = parent.child(child);
  if (!n) return std::nullopt;
  std::string_view v = n.text().as_string();
  int64_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size() || out < 0) {
    throw Error(ErrorKind::kParse, "GetBucketLifecycleConfiguration: bad <" + std::string(child) +
                                       "> \"" + std::string(v) + "\"");
  }
  return out;
}

bool url_encoded(const pugi::xml_node& root) {
  return std::string_view(root.child("EncodingType").text().as_string()) == "url";
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

int64_t parse_s3_time(std::string_view text) {
  std::optional<int64_t> t = parse_time(text);
  if (!t) throw Error(ErrorKind::kParse, "bad S3 timestamp \"" + std::string(text) + "\"");
  return *t;
}

std::string url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

ListObjectsPage parse_list_objects_v2(std::string_view xml) {
  static const char* kOp = "ListObjectsV2";
  pugi::xml_document doc = load(xml, kOp);
  pugi::xml_node root = root_named(doc, "ListBucketResult", kOp);
  const bool encoded = url_encoded(root);
  ListObjectsPage page;
  page.truncated = bool_of(root, "IsTruncated");
  page.next_continuation_token = text_of(root, "NextContinuationToken");
  for (pugi::xml_node c = root.child("Contents"); c; c = c.next_sibling("Contents")) {
    ObjectEntry e;
    const char* key = c.child("Key").text().as_string();
    e.key = encoded ? url_decode(key) : std::string(key);
    e.last_modified = parse_s3_time(c.child("LastModified").text().as_string());
    e.size = u64_of(c, "Size", kOp);
    page.objects.push_back(std::move(e));
  }
  if (page.truncated && page.next_continuation_token.empty()) {
    throw Error(ErrorKind::kParse, "ListObjectsV2: truncated page without NextContinuationToken");
  }
  return page;
}

ListUploadsPage parse_list_multipart_uploads(std::string_view xml) {
  static const char* kOp = "ListMultipartUploads";
  pugi::xml_document doc = load(xml, kOp);
  pugi::xml_node root = root_named(doc, "ListMultipartUploadsResult", kOp);
  const bool encoded = url_encoded(root);
  ListUploadsPage page;
  page.truncated = bool_of(root, "IsTruncated");
  std::string marker = text_of(root, "NextKeyMarker");
  page.next_key_marker = encoded ? url_decode(marker) : marker;
  page.next_upload_id_marker = text_of(root, "NextUploadIdMarker");
  for (pugi::xml_node u = root.child("Upload"); u; u = u.next_sibling("Upload")) {
    UploadEntry e;
    const char* key = u.child("Key").text().as_string();
    e.key = encoded ? url_decode(key) : std::string(key);
    e.upload_id = text_of(u, "UploadId");
    e.initiated = parse_s3_time(u.child("Initiated").text().as_string());
    page.uploads.push_back(std::move(e));
  }
  if (page.truncated && page.next_key_marker.empty()) {
    throw Error(ErrorKind::kParse, "ListMultipartUploads: truncated page without NextKeyMarker");
  }
  return page;
}

ListVersionsPage parse_list_object_versions(std::string_view xml) {
  static const char* kOp = "ListObjectVersions";
  pugi::xml_document doc = load(xml, kOp);
  pugi::xml_node root = root_named(doc, "ListVersionsResult", kOp);
  const bool encoded = url_encoded(root);
  ListVersionsPage page;
  page.truncated = bool_of(root, "IsTruncated");
  std::string marker = text_of(root, "NextKeyMarker");
  page.next_key_marker = encoded ? url_decode(marker) : marker;
  page.next_version_id_marker = text_of(root, "NextVersionIdMarker");
  for (pugi::xml_node n = root.first_child(); n; n = n.next_sibling()) {
    const bool marker_entry = std::strcmp(n.name(), "DeleteMarker") == 0;
    if (!marker_entry && std::strcmp(n.name(), "Version") != 0) continue;
    VersionEntry e;
    const char* key = n.child("Key").text().as_string();
    e.key = encoded ? url_decode(key) : std::string(key);
    e.version_id = text_of(n, "VersionId");
    e.is_latest = bool_of(n, "IsLatest");
    e.delete_marker = marker_entry;
    e.last_modified = parse_s3_time(n.child("LastModified").text().as_string());
    e.size = marker_entry ? 0 : u64_of(n, "Size", kOp);
    page.entries.push_back(std::move(e));
  }
  if (page.truncated && page.next_key_marker.empty()) {
    throw Error(ErrorKind::kParse, "ListObjectVersions: truncated page without NextKeyMarker");
  }
  return page;
}

ListPartsPage parse_list_parts(std::string_view xml) {
  static const char* kOp = "ListParts";
  pugi::xml_document doc = load(xml, kOp);
  pugi::xml_node root = root_named(doc, "ListPartsResult", kOp);
  ListPartsPage page;
  page.truncated = bool_of(root, "IsTruncated");
  page.next_part_number_marker = text_of(root, "NextPartNumberMarker");
  for (pugi::xml_node p = root.child("Part"); p; p = p.next_sibling("Part")) {
    page.bytes += u64_of(p, "Size", kOp);
    ++page.parts;
  }
  return page;
}

std::string parse_versioning_status(std::string_view xml) {
  static const char* kOp = "GetBucketVersioning";
  pugi::xml_document doc = load(xml, kOp);
  pugi::xml_node root = root_named(doc, "VersioningConfiguration", kOp);
  return text_of(root, "Status");
}

bool is_lifecycle_document(std::string_view xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8)) {
    return false;
  }
  return std::strcmp(doc.document_element().name(), "LifecycleConfiguration") == 0;
}

std::vector<LifecycleRule> parse_lifecycle(std::string_view xml) {
  static const char* kOp = "GetBucketLifecycleConfiguration";
  pugi::xml_document doc = load(xml, kOp);
  pugi::xml_node root = root_named(doc, "LifecycleConfiguration", kOp);
  std::vector<LifecycleRule> rules;
  for (pugi::xml_node r = root.child("Rule"); r; r = r.next_sibling("Rule")) {
    LifecycleRule rule;
    rule.id = text_of(r, "ID");
    rule.enabled = std::string_view(r.child("Status").text().as_string()) == "Enabled";
    if (pugi::xml_node filter = r.child("Filter")) {
      pugi::xml_node scope = filter.child("And") ? filter.child("And") : filter;
      rule.prefix = text_of(scope, "Prefix");
      if (scope.child("Tag")) rule.unevaluated_filters.push_back("Tag");
      for (const char* size : {"ObjectSizeGreaterThan", "ObjectSizeLessThan"}) {
        if (scope.child(size)) rule.unevaluated_filters.push_back(size);
      }
    } else {
      rule.prefix = text_of(r, "Prefix");  // legacy V1 rule shape
    }
    if (pugi::xml_node e = r.child("Expiration")) {
      rule.expiration_days = days_of(e, "Days");
      if (pugi::xml_node d = e.child("Date")) {
        rule.expiration_date = parse_s3_time(d.text().as_string());
      }
      rule.expired_object_delete_marker = bool_of(e, "ExpiredObjectDeleteMarker");
    }
    if (pugi::xml_node n = r.child("NoncurrentVersionExpiration")) {
      rule.noncurrent_days = days_of(n, "NoncurrentDays");
      rule.newer_noncurrent_versions = days_of(n, "NewerNoncurrentVersions");
    }
    if (pugi::xml_node a = r.child("AbortIncompleteMultipartUpload")) {
      rule.abort_multipart_days = days_of(a, "DaysAfterInitiation");
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

std::optional<ErrorBody> parse_error(std::string_view xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8)) {
    return std::nullopt;
  }
  pugi::xml_node root = doc.document_element();
  if (std::strcmp(root.name(), "Error") != 0) return std::nullopt;
  return ErrorBody{text_of(root, "Code"), text_of(root, "Message")};
}

PrefixRules select_rules(const std::vector<LifecycleRule>& rules, std::string_view prefix) {
  PrefixRules out;
  for (const LifecycleRule& r : rules) {
    if (!r.enabled) continue;
    const bool covers = prefix.substr(0, std::min(prefix.size(), r.prefix.size())) == r.prefix &&
                        r.prefix.size() <= prefix.size();
    const bool partial = !covers && std::string_view(r.prefix).substr(0, prefix.size()) == prefix;
    if (!covers && !partial) continue;
    if (!r.unevaluated_filters.empty()) {
      std::string what;
      for (const auto& f : r.unevaluated_filters) what += (what.empty() ? "" : "+") + f;
      out.not_evaluated.push_back((r.id.empty() ? std::string("(no id)") : r.id) + ": " + what);
      continue;
    }
    (covers ? out.covering : out.partial).push_back(&r);
    out.applied_ids.push_back(r.id);
  }
  return out;
}

namespace {
void min_into(std::optional<int64_t>& into, const std::optional<int64_t>& v) {
  if (v && (!into || *v < *into)) into = v;
}
void apply_rule(KeyPolicy& p, const LifecycleRule& r) {
  min_into(p.expiration_days, r.expiration_days);
  min_into(p.expiration_date, r.expiration_date);
  if (r.noncurrent_days && (!p.noncurrent_days || *r.noncurrent_days < *p.noncurrent_days)) {
    p.noncurrent_days = r.noncurrent_days;
    p.newer_noncurrent_versions = r.newer_noncurrent_versions;
  }
  min_into(p.abort_multipart_days, r.abort_multipart_days);
}
}  // namespace

KeyPolicy policy_for_key(const PrefixRules& rules, std::string_view key) {
  KeyPolicy p;
  for (const LifecycleRule* r : rules.covering) apply_rule(p, *r);
  for (const LifecycleRule* r : rules.partial) {
    if (key.substr(0, r->prefix.size()) == r->prefix) apply_rule(p, *r);
  }
  return p;
}

int64_t lifecycle_deadline(int64_t created, int64_t days) {
  return round_up_to_midnight_utc(created + days * kDay);
}

int64_t lifecycle_deadline_seconds(int64_t created, int64_t seconds) {
  return round_up_to_midnight_utc(created + seconds);
}

NoncurrentWalker::NoncurrentWalker(int64_t as_of, std::optional<int64_t> retention_seconds,
                                   DaysForKey days_for_key, const void* ctx)
    : as_of_(as_of),
      retention_seconds_(retention_seconds),
      days_for_key_(days_for_key),
      ctx_(ctx) {}

void NoncurrentWalker::end_key() {
  if (have_key_ && entries_in_key_ == 1 && first_is_marker_) ++result_.delete_markers_lone;
}

void NoncurrentWalker::add(const VersionEntry& e) {
  if (!have_key_ || e.key != key_) {
    end_key();
    key_ = e.key;
    have_key_ = true;
    entries_in_key_ = 0;
    noncurrent_in_key_ = 0;
    first_is_marker_ = e.delete_marker;
    key_days_.reset();
    if (!retention_seconds_ && days_for_key_ != nullptr) key_days_ = days_for_key_(ctx_, key_);
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
    } else if (key_days_) {
      const auto& [days, keep_newer] = *key_days_;
      if (!keep_newer || static_cast<int64_t>(noncurrent_in_key_) >= *keep_newer) {
        deadline = lifecycle_deadline(since, days);
      }
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
