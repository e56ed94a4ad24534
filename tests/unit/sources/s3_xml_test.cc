// The S3 XML parsers on fixtures shaped like AWS's documented answers (tests/fixtures/s3), the
// lifecycle rule selection for a prefix, deadline rounding at the day boundaries and the
// noncurrent-version derivation from version listings.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "core/error.h"
#include "core/time.h"
#include "sources/s3_xml.h"

using namespace ttla;
using namespace ttla::s3;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(TTLA_SOURCE_DIR) + "/tests/fixtures/s3/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int64_t at(const char* rfc3339) { return *parse_time(rfc3339); }

}  // namespace

TEST(S3Xml, ListObjectsV2TruncatedPageDecodesUrlEncodedKeys) {
  ListObjectsPage p = parse_list_objects_v2(fixture("list_objects_v2_truncated.xml"));
  EXPECT_TRUE(p.truncated);
  EXPECT_EQ(p.next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=2");
  ASSERT_EQ(p.objects.size(), 3u);
  EXPECT_EQ(p.objects[0].key, "uploads/u1/a b.mp4");
  EXPECT_EQ(p.objects[0].size, 1048576u);
  EXPECT_EQ(p.objects[0].last_modified, at("2026-11-20T23:59:59Z"));
  EXPECT_EQ(p.objects[1].key, "uploads/u2/\xC3\xA9t\xC3\xA9 2026+1.mp4");
  EXPECT_EQ(p.objects[1].size, 0u);
  EXPECT_EQ(p.objects[2].key, "uploads/u2/clip.mp4");
  EXPECT_EQ(p.objects[2].last_modified, at("2026-11-21T12:30:00Z"));  // fraction truncated
  EXPECT_EQ(p.objects[2].size, 25000000u);
}

TEST(S3Xml, ListObjectsV2LastPageKeepsLiteralPlusWhenNotEncoded) {
  ListObjectsPage p = parse_list_objects_v2(fixture("list_objects_v2_last.xml"));
  EXPECT_FALSE(p.truncated);
  EXPECT_TRUE(p.next_continuation_token.empty());
  ASSERT_EQ(p.objects.size(), 1u);
  EXPECT_EQ(p.objects[0].key, "uploads/u3/plain+literal.txt");
  ListObjectsPage empty = parse_list_objects_v2(fixture("list_objects_v2_empty.xml"));
  EXPECT_TRUE(empty.objects.empty());
  EXPECT_FALSE(empty.truncated);
}

TEST(S3Xml, ListObjectsV2RejectsOtherDocumentsAndBrokenPages) {
  EXPECT_THROW(parse_list_objects_v2(fixture("error_slowdown.xml")), Error);
  EXPECT_THROW(parse_list_objects_v2("<ListBucketResult><Contents>"), Error);
  // Truncated without a token would loop forever or stop silently: both wrong.
  EXPECT_THROW(parse_list_objects_v2("<ListBucketResult><IsTruncated>true</IsTruncated>"
                                     "</ListBucketResult>"),
               Error);
  EXPECT_THROW(parse_list_objects_v2("<ListBucketResult><Contents><Key>a</Key><LastModified>"
                                     "yesterday</LastModified><Size>1</Size></Contents>"
                                     "</ListBucketResult>"),
               Error);
  EXPECT_THROW(parse_list_objects_v2("<ListBucketResult><Contents><Key>a</Key><LastModified>"
                                     "2026-11-01T00:00:00Z</LastModified><Size>-1</Size>"
                                     "</Contents></ListBucketResult>"),
               Error);
}

TEST(S3Xml, ListMultipartUploadsWithMarkers) {
  ListUploadsPage p = parse_list_multipart_uploads(fixture("list_multipart_uploads.xml"));
  EXPECT_TRUE(p.truncated);
  EXPECT_EQ(p.next_key_marker, "uploads/my movie.m2ts");
  EXPECT_EQ(p.next_upload_id_marker, "YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ");
  ASSERT_EQ(p.uploads.size(), 2u);
  EXPECT_EQ(p.uploads[0].key, "uploads/my-divisor");
  EXPECT_EQ(p.uploads[0].upload_id, "XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw");
  EXPECT_EQ(p.uploads[0].initiated, at("2026-11-10T20:48:33Z"));
  EXPECT_EQ(p.uploads[1].key, "uploads/my movie.m2ts");
  EXPECT_EQ(p.uploads[1].initiated, at("2026-11-21T23:59:59Z"));
}

TEST(S3Xml, ListObjectVersionsKeepsDocumentOrderOfVersionsAndMarkers) {
  ListVersionsPage p = parse_list_object_versions(fixture("list_object_versions_truncated.xml"));
  EXPECT_TRUE(p.truncated);
  EXPECT_EQ(p.next_key_marker, "my-third-image.jpg");
  EXPECT_EQ(p.next_version_id_marker, "03jpff543dhffds434rfdsFDN943fdsFkdmqnh892");
  ASSERT_EQ(p.entries.size(), 5u);
  EXPECT_TRUE(p.entries[0].delete_marker);
  EXPECT_TRUE(p.entries[0].is_latest);
  EXPECT_EQ(p.entries[0].key, "my-image.jpg");
  EXPECT_FALSE(p.entries[1].delete_marker);
  EXPECT_FALSE(p.entries[1].is_latest);
  EXPECT_EQ(p.entries[1].size, 434234u);
  EXPECT_EQ(p.entries[1].version_id, "3/L4kqtJl40Nr8X8gdRQBpUMLUo");
  EXPECT_TRUE(p.entries[2].delete_marker);
  EXPECT_EQ(p.entries[2].key, "my-second-image.jpg");
  EXPECT_EQ(p.entries[4].size, 64u);
}

TEST(S3Xml, ListPartsSumsSizes) {
  ListPartsPage p = parse_list_parts(fixture("list_parts.xml"));
  EXPECT_EQ(p.parts, 2u);
  EXPECT_EQ(p.bytes, 2u * 10485760u);
  EXPECT_TRUE(p.truncated);
  EXPECT_EQ(p.next_part_number_marker, "3");
}

TEST(S3Xml, VersioningStatus) {
  EXPECT_EQ(parse_versioning_status(fixture("versioning_enabled.xml")), "Enabled");
  EXPECT_EQ(parse_versioning_status(fixture("versioning_never.xml")), "");
  EXPECT_THROW(parse_versioning_status(fixture("error_slowdown.xml")), Error);
}

TEST(S3Xml, ErrorBodies) {
  auto none = parse_error(fixture("error_no_such_lifecycle.xml"));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->code, "NoSuchLifecycleConfiguration");
  auto slow = parse_error(fixture("error_slowdown.xml"));
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->code, "SlowDown");
  EXPECT_EQ(slow->message, "Please reduce your request rate.");
  EXPECT_FALSE(parse_error(fixture("versioning_enabled.xml")));
  EXPECT_FALSE(parse_error("not xml at all"));
  EXPECT_FALSE(is_lifecycle_document(fixture("error_no_such_lifecycle.xml")));
  // Swift answers ?lifecycle with a listing: not a lifecycle document.
  EXPECT_FALSE(is_lifecycle_document(fixture("list_objects_v2_last.xml")));
  EXPECT_THROW(parse_lifecycle(fixture("list_objects_v2_last.xml")), Error);
}

TEST(S3Xml, LifecycleRulesAllShapes) {
  const std::string xml = fixture("lifecycle_rules.xml");
  EXPECT_TRUE(is_lifecycle_document(xml));
  std::vector<LifecycleRule> rules = parse_lifecycle(xml);
  ASSERT_EQ(rules.size(), 7u);
  EXPECT_EQ(rules[0].id, "expire-uploads");
  EXPECT_TRUE(rules[0].enabled);
  EXPECT_EQ(rules[0].prefix, "uploads/");
  EXPECT_EQ(rules[0].expiration_days, 7);
  EXPECT_EQ(rules[0].abort_multipart_days, 2);
  EXPECT_EQ(rules[1].prefix, "uploads/tmp/");  // And{Prefix}
  EXPECT_EQ(rules[1].unevaluated_filters, std::vector<std::string>{"ObjectSizeGreaterThan"});
  EXPECT_EQ(rules[2].prefix, "uploads/scratch/");  // legacy top-level Prefix
  EXPECT_EQ(rules[2].expiration_days, 3);
  EXPECT_EQ(rules[3].unevaluated_filters, std::vector<std::string>{"Tag"});
  EXPECT_EQ(rules[4].prefix, "");
  EXPECT_FALSE(rules[4].expiration_days);
  EXPECT_TRUE(rules[4].expired_object_delete_marker);
  EXPECT_EQ(rules[4].noncurrent_days, 30);
  EXPECT_EQ(rules[4].newer_noncurrent_versions, 2);
  EXPECT_FALSE(rules[5].enabled);
  EXPECT_EQ(rules[6].expiration_date, at("2027-01-01T00:00:00Z"));
}

TEST(S3Xml, RuleSelectionForPrefix) {
  std::vector<LifecycleRule> rules = parse_lifecycle(fixture("lifecycle_rules.xml"));
  PrefixRules r = select_rules(rules, "uploads/");
  // Covering: expire-uploads ("uploads/") and versions (""); partial: scratch-legacy.
  EXPECT_EQ(r.applied_ids, (std::vector<std::string>{"expire-uploads", "scratch-legacy", "versions"}));
  ASSERT_EQ(r.covering.size(), 2u);
  ASSERT_EQ(r.partial.size(), 1u);
  EXPECT_EQ(r.not_evaluated,
            (std::vector<std::string>{"tmp-fast: ObjectSizeGreaterThan", "tagged-logs: Tag"}));

  KeyPolicy plain = policy_for_key(r, "uploads/u1/a.mp4");
  EXPECT_EQ(plain.expiration_days, 7);
  EXPECT_EQ(plain.abort_multipart_days, 2);
  EXPECT_EQ(plain.noncurrent_days, 30);
  KeyPolicy scratch = policy_for_key(r, "uploads/scratch/x");
  EXPECT_EQ(scratch.expiration_days, 3);  // the earliest rule wins

  // A narrower target prefix is covered by the broader rule; "logs/" is not touched at all.
  PrefixRules deep = select_rules(rules, "uploads/scratch/2026/");
  EXPECT_EQ(deep.covering.size(), 3u);
  EXPECT_TRUE(deep.partial.empty());
  EXPECT_EQ(policy_for_key(deep, "uploads/scratch/2026/a").expiration_days, 3);
  PrefixRules logs = select_rules(rules, "logs/");
  EXPECT_EQ(logs.applied_ids, (std::vector<std::string>{"versions", "other-prefix"}));
  // A prefix that only shares characters with a rule is not covered by it.
  PrefixRules other = select_rules(rules, "uploadsX/");
  EXPECT_EQ(other.applied_ids, std::vector<std::string>{"versions"});
  // Empty target prefix: every rule applies to part of the bucket.
  PrefixRules all = select_rules(rules, "");
  EXPECT_EQ(all.covering.size(), 1u);  // only the rule with the empty prefix covers everything
  EXPECT_EQ(all.partial.size(), 3u);
}

TEST(S3Xml, DeadlineRoundsUpToMidnightUtcAtDayBoundaries) {
  // Created 23:59:59 with N=1: +1 day is 23:59:59 the next day, rounded to the midnight after.
  EXPECT_EQ(lifecycle_deadline(at("2026-11-20T23:59:59Z"), 1), at("2026-11-22T00:00:00Z"));
  // Created exactly at midnight: +1 day is a midnight already; no further rounding.
  EXPECT_EQ(lifecycle_deadline(at("2026-11-21T00:00:00Z"), 1), at("2026-11-22T00:00:00Z"));
  // One second after midnight goes to the following midnight.
  EXPECT_EQ(lifecycle_deadline(at("2026-11-21T00:00:01Z"), 1), at("2026-11-23T00:00:00Z"));
  EXPECT_EQ(lifecycle_deadline(at("2026-12-31T12:00:00Z"), 7), at("2027-01-08T00:00:00Z"));
  EXPECT_EQ(lifecycle_deadline_seconds(at("2026-11-21T00:00:00Z"), 36 * 3600),
            at("2026-11-23T00:00:00Z"));
}

TEST(S3Xml, NoncurrentDerivationFromVersionListAcrossPages) {
  // Page 1 + page 2 of the fixtures; as_of 2026-11-22T12:00Z with a 1-day noncurrent retention.
  const int64_t as_of = at("2026-11-22T12:00:00Z");
  NoncurrentWalker w(as_of, 86400);
  for (const auto& name : {"list_object_versions_truncated.xml", "list_object_versions_last.xml"}) {
    for (const VersionEntry& e : parse_list_object_versions(fixture(name)).entries) w.add(e);
  }
  w.finish();
  const auto& r = w.result();
  // my-image.jpg: version noncurrent since the marker (11-12 17:50) -> deadline 11-14 00:00: expired.
  // my-second-image.jpg: a lone delete marker.
  // my-third-image.jpg: v(11-19) noncurrent since 11-20 10:00 -> deadline 11-22 00:00 <= as_of:
  //   expired; v(11-01, on page 2) noncurrent since 11-19 10:00 -> 11-21 00:00: expired.
  EXPECT_EQ(r.versions, 4u);
  EXPECT_EQ(r.noncurrent, 3u);
  EXPECT_EQ(r.noncurrent_bytes, 434234u + 64u + 1000u);
  EXPECT_EQ(r.expired_count, 3u);
  EXPECT_EQ(r.expired_bytes, 434234u + 64u + 1000u);
  EXPECT_EQ(r.delete_markers, 2u);
  EXPECT_EQ(r.delete_markers_lone, 1u);
  EXPECT_EQ(r.oldest_expired_deadline, at("2026-11-14T00:00:00Z"));

  // Just before the third key's first noncurrent deadline, only two are expired.
  NoncurrentWalker early(at("2026-11-21T23:59:59Z"), 86400);
  for (const auto& name : {"list_object_versions_truncated.xml", "list_object_versions_last.xml"}) {
    for (const VersionEntry& e : parse_list_object_versions(fixture(name)).entries) early.add(e);
  }
  early.finish();
  EXPECT_EQ(early.result().expired_count, 2u);
  EXPECT_EQ(early.result().expired_bytes, 434234u + 1000u);
}

TEST(S3Xml, NoncurrentKeepsNewerNoncurrentVersionsFromLifecycle) {
  // One key with four versions; the rule keeps the 2 newest noncurrent ones whatever their age.
  std::vector<VersionEntry> entries = {
      {"k", "v4", true, false, at("2026-11-04T00:00:00Z"), 4},
      {"k", "v3", false, false, at("2026-11-03T00:00:00Z"), 3},
      {"k", "v2", false, false, at("2026-11-02T00:00:00Z"), 2},
      {"k", "v1", false, false, at("2026-11-01T00:00:00Z"), 1},
  };
  auto days = [](const void*, std::string_view) -> std::optional<std::pair<int64_t, std::optional<int64_t>>> {
    return std::make_pair(int64_t{1}, std::optional<int64_t>(2));
  };
  NoncurrentWalker w(at("2026-12-01T00:00:00Z"), std::nullopt, days);
  for (const auto& e : entries) w.add(e);
  w.finish();
  EXPECT_EQ(w.result().noncurrent, 3u);
  EXPECT_EQ(w.result().expired_count, 1u);
  EXPECT_EQ(w.result().expired_bytes, 1u);
  EXPECT_EQ(w.result().delete_markers_lone, 0u);
}

TEST(S3Xml, UrlDecode) {
  EXPECT_EQ(url_decode("a+b%20c%2Bd%C3%A9"), "a b c+d\xC3\xA9");
  EXPECT_EQ(url_decode("100%"), "100%");
  EXPECT_EQ(url_decode("%zz%4"), "%zz%4");
}
