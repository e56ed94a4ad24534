#include "aws/s3_xml.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <utility>

#include <pugixml.hpp>

#include "aws/error_body.h"
#include "aws/xml.h"
#include "core/error.h"
#include "core/time.h"

namespace ttla::s3 {
namespace {

using aws::xml::local_name;
using aws::xml::member;
using aws::xml::members;
using aws::xml::text_of;

bool is_error_root(const pugi::xml_node& root) {
  std::string_view n = local_name(root);
  return n == "Error" || n == "ErrorResponse";
}

pugi::xml_document load(std::string_view xml, const char* operation) {
  pugi::xml_document doc;
  pugi::xml_parse_result r = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default,
                                             pugi::encoding_utf8);
  if (!r) {
    throw Error(ErrorKind::kParse, std::string(operation) + ": malformed XML (" +
                                       r.description() + " at offset " +
                                       std::to_string(r.offset) + ")");
  }
  // An error document is never read as an empty answer.
  if (is_error_root(doc.document_element())) {
    std::optional<aws::ErrorBody> e = aws::parse_error_body(xml);
    throw Error(ErrorKind::kParse, std::string(operation) + ": answered with an error document" +
                                       (e && !e->code.empty() ? " (" + e->code + ")" : ""));
  }
  return doc;
}

// The element holding an answer's members. The root's name is not checked (servers differ:
// <VersioningConfiguration> on AWS, <GetBucketVersioningResponse> on moto); a query-style
// wrapper <XResponse><XResult>…</XResult></XResponse> is looked through. (load() has refused an
// error document already.)
pugi::xml_node body_of(const pugi::xml_document& doc, const char* operation);

bool bool_of(const pugi::xml_node& parent, const char* child) {
  std::string_view v = member(parent, child).text().as_string();
  return v == "true" || v == "TRUE" || v == "True";
}

uint64_t parse_u64(std::string_view v, const char* child, const char* operation) {
  uint64_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size()) {
    throw Error(ErrorKind::kParse, std::string(operation) + ": bad <" + child + "> \"" +
                                       std::string(v) + "\"");
  }
  return out;
}

uint64_t u64_of(const pugi::xml_node& parent, const char* child, const char* operation) {
  std::string_view v = member(parent, child).text().as_string();
  if (v.empty()) return 0;
  return parse_u64(v, child, operation);
}

std::optional<int64_t> days_of(const pugi::xml_node& parent, const char* child) {
  pugi::xml_node n = member(parent, child);
  if (!n) return std::nullopt;
  std::string_view v = n.text().as_string();
  int64_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || out < 0) {
    throw Error(ErrorKind::kParse, "GetBucketLifecycleConfiguration: bad <" + std::string(child) +
                                       "> \"" + std::string(v) + "\"");
  }
  return out;
}

bool url_encoded(const pugi::xml_node& root) {
  return std::string_view(member(root, "EncodingType").text().as_string()) == "url";
}

// A member holding a key (Key, NextKeyMarker): decoded when the answer is url-encoded.
std::string key_of(const pugi::xml_node& parent, const char* child, bool encoded) {
  std::string text = text_of(parent, child);
  return encoded ? url_decode(text) : text;
}

pugi::xml_node body_of(const pugi::xml_document& doc, const char* operation) {
  pugi::xml_node root = doc.document_element();
  if (!root) throw Error(ErrorKind::kParse, std::string(operation) + ": empty document");
  std::string_view name = local_name(root);
  if (name.size() > 8 && name.substr(name.size() - 8) == "Response") {
    for (pugi::xml_node c = root.first_child(); c; c = c.next_sibling()) {
      std::string_view cn = local_name(c);
      if (c.type() == pugi::node_element && cn.size() > 6 && cn.substr(cn.size() - 6) == "Result") {
        return c;
      }
    }
  }
  return root;
}

// One parsed answer: the element holding its members (see body_of) and whether its keys are
// url-encoded. Built in place: `root` points into the document it owns.
class Answer {
 public:
  Answer(std::string_view xml, const char* op)
      : operation(op), doc_(load(xml, op)), root(body_of(doc_, op)), encoded(url_encoded(root)) {}
  Answer(const Answer&) = delete;
  Answer& operator=(const Answer&) = delete;

  // A truncated page must say where the next one starts.
  void require_marker(bool truncated, const std::string& marker, const char* member_name) const {
    if (truncated && marker.empty()) {
      throw Error(ErrorKind::kParse,
                  std::string(operation) + ": truncated page without " + member_name);
    }
  }

  const char* const operation;

 private:
  pugi::xml_document doc_;

 public:
  const pugi::xml_node root;
  const bool encoded;
};

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
  const Answer a(xml, "ListObjectsV2");
  ListObjectsPage page;
  page.truncated = bool_of(a.root, "IsTruncated");
  page.next_continuation_token = text_of(a.root, "NextContinuationToken");
  for (const pugi::xml_node& c : members(a.root, "Contents")) {
    ObjectEntry e;
    e.key = key_of(c, "Key", a.encoded);
    e.last_modified = parse_s3_time(member(c, "LastModified").text().as_string());
    e.size = u64_of(c, "Size", a.operation);
    page.objects.push_back(std::move(e));
  }
  a.require_marker(page.truncated, page.next_continuation_token, "NextContinuationToken");
  return page;
}

ListBucketsPage parse_list_buckets(std::string_view xml) {
  const Answer a(xml, "ListBuckets");
  ListBucketsPage page;
  for (const pugi::xml_node& b : members(member(a.root, "Buckets"), "Bucket")) {
    std::string name = text_of(b, "Name");
    if (name.empty()) throw Error(ErrorKind::kParse, "ListBuckets: a bucket without a Name");
    page.names.push_back(std::move(name));
  }
  page.continuation_token = text_of(a.root, "ContinuationToken");
  return page;
}

ListUploadsPage parse_list_multipart_uploads(std::string_view xml) {
  const Answer a(xml, "ListMultipartUploads");
  ListUploadsPage page;
  page.truncated = bool_of(a.root, "IsTruncated");
  page.next_key_marker = key_of(a.root, "NextKeyMarker", a.encoded);
  page.next_upload_id_marker = text_of(a.root, "NextUploadIdMarker");
  for (const pugi::xml_node& u : members(a.root, "Upload")) {
    UploadEntry e;
    e.key = key_of(u, "Key", a.encoded);
    e.upload_id = text_of(u, "UploadId");
    e.initiated = parse_s3_time(member(u, "Initiated").text().as_string());
    page.uploads.push_back(std::move(e));
  }
  a.require_marker(page.truncated, page.next_key_marker, "NextKeyMarker");
  return page;
}

ListVersionsPage parse_list_object_versions(std::string_view xml) {
  const Answer a(xml, "ListObjectVersions");
  ListVersionsPage page;
  page.truncated = bool_of(a.root, "IsTruncated");
  page.next_key_marker = key_of(a.root, "NextKeyMarker", a.encoded);
  page.next_version_id_marker = text_of(a.root, "NextVersionIdMarker");
  for (pugi::xml_node n = a.root.first_child(); n; n = n.next_sibling()) {
    if (n.type() != pugi::node_element) continue;
    const bool marker_entry = local_name(n) == "DeleteMarker";
    if (!marker_entry && local_name(n) != "Version") continue;
    VersionEntry e;
    e.key = key_of(n, "Key", a.encoded);
    e.version_id = text_of(n, "VersionId");
    e.is_latest = bool_of(n, "IsLatest");
    e.delete_marker = marker_entry;
    e.last_modified = parse_s3_time(member(n, "LastModified").text().as_string());
    e.size = marker_entry ? 0 : u64_of(n, "Size", a.operation);
    page.entries.push_back(std::move(e));
  }
  a.require_marker(page.truncated, page.next_key_marker, "NextKeyMarker");
  return page;
}

ListPartsPage parse_list_parts(std::string_view xml) {
  const Answer a(xml, "ListParts");
  ListPartsPage page;
  page.truncated = bool_of(a.root, "IsTruncated");
  page.next_part_number_marker = text_of(a.root, "NextPartNumberMarker");
  for (const pugi::xml_node& p : members(a.root, "Part")) {
    page.bytes += u64_of(p, "Size", a.operation);
    ++page.parts;
  }
  return page;
}

std::string parse_versioning_status(std::string_view xml) {
  const Answer a(xml, "GetBucketVersioning");
  return text_of(a.root, "Status");
}

namespace {

bool lifecycle_root(const pugi::xml_node& root) {
  if (!root || is_error_root(root)) return false;
  if (member(root, "Rule")) return true;
  return std::string_view(local_name(root)).find("LifecycleConfiguration") != std::string_view::npos;
}

// Filter/Tag or And/Tag: <Tag><Key/><Value/></Tag>.
LifecycleTag tag_of(const pugi::xml_node& t) { return {text_of(t, "Key"), text_of(t, "Value")}; }

std::optional<uint64_t> size_of(const pugi::xml_node& scope, const char* name) {
  pugi::xml_node n = member(scope, name);
  if (!n) return std::nullopt;
  return parse_u64(n.text().as_string(), name, "GetBucketLifecycleConfiguration");
}

}  // namespace

bool is_lifecycle_document(std::string_view xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8)) {
    return false;
  }
  pugi::xml_node root = doc.document_element();
  if (lifecycle_root(root)) return true;
  // A query-style wrapper around the configuration.
  std::string_view name = local_name(root);
  if (name.find("Lifecycle") == std::string_view::npos) return false;
  for (pugi::xml_node c = root.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && lifecycle_root(c)) return true;
  }
  return false;
}

std::vector<LifecycleRule> parse_lifecycle(std::string_view xml) {
  const Answer a(xml, "GetBucketLifecycleConfiguration");
  pugi::xml_node root = a.root;
  if (!lifecycle_root(root)) {
    // The wrapper's child may be the configuration itself.
    pugi::xml_node inner;
    for (pugi::xml_node c = root.first_child(); c && !inner; c = c.next_sibling()) {
      if (c.type() == pugi::node_element && lifecycle_root(c)) inner = c;
    }
    if (!inner) {
      throw Error(ErrorKind::kParse, std::string(a.operation) + ": not a lifecycle configuration (<" +
                                         root.name() + ">)");
    }
    root = inner;
  }
  std::vector<LifecycleRule> rules;
  for (const pugi::xml_node& r : members(root, "Rule")) {
    LifecycleRule rule;
    rule.id = text_of(r, "ID");
    rule.enabled = std::string_view(member(r, "Status").text().as_string()) == "Enabled";
    if (pugi::xml_node filter = member(r, "Filter")) {
      pugi::xml_node scope = member(filter, "And") ? member(filter, "And") : filter;
      rule.prefix = text_of(scope, "Prefix");
      for (const pugi::xml_node& t : members(scope, "Tag")) rule.tags.push_back(tag_of(t));
      rule.object_size_greater_than = size_of(scope, "ObjectSizeGreaterThan");
      rule.object_size_less_than = size_of(scope, "ObjectSizeLessThan");
    } else {
      rule.prefix = text_of(r, "Prefix");  // legacy V1 rule shape
    }
    if (pugi::xml_node e = member(r, "Expiration")) {
      rule.expiration_days = days_of(e, "Days");
      if (pugi::xml_node d = member(e, "Date")) {
        rule.expiration_date = parse_s3_time(d.text().as_string());
      }
      rule.expired_object_delete_marker = bool_of(e, "ExpiredObjectDeleteMarker");
    }
    if (pugi::xml_node n = member(r, "NoncurrentVersionExpiration")) {
      rule.noncurrent_days = days_of(n, "NoncurrentDays");
      rule.newer_noncurrent_versions = days_of(n, "NewerNoncurrentVersions");
    }
    if (pugi::xml_node abort = member(r, "AbortIncompleteMultipartUpload")) {
      rule.abort_multipart_days = days_of(abort, "DaysAfterInitiation");
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

std::vector<LifecycleTag> parse_object_tagging(std::string_view xml) {
  const Answer a(xml, "GetObjectTagging");
  pugi::xml_node set = member(a.root, "TagSet");
  std::vector<LifecycleTag> tags;
  for (const pugi::xml_node& t : members(set ? set : a.root, "Tag")) tags.push_back(tag_of(t));
  return tags;
}

std::string region_hint(long status, const std::string* header, std::string_view body) {
  if (header != nullptr && !header->empty()) return *header;
  if (status < 300) return {};
  std::optional<aws::ErrorBody> e = aws::parse_error_body(body);
  if (e && (e->code == "AuthorizationHeaderMalformed" || e->code == "PermanentRedirect" ||
            e->code == "IllegalLocationConstraintException")) {
    return e->region;
  }
  return {};
}

}  // namespace ttla::s3
