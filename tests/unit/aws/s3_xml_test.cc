// The S3 XML parsers on fixtures (tests/fixtures/s3) shaped like AWS's documented answers and
// like other servers' variants of them: moto's root names and member order, namespace prefixes,
// query-style wrappers, unknown elements; error bodies and bucket-region hints. Lifecycle
// evaluation is tested in s3_lifecycle_test.cc.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "aws/error_body.h"
#include "aws/s3_xml.h"
#include "core/error.h"
#include "core/time.h"
#include "support/fixtures.h"

using namespace ttla;
using namespace ttla::s3;

namespace {

std::string fixture(const std::string& name) { return ttla::testing::fixture("s3", name); }

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

TEST(S3Xml, VersioningStatusWhateverTheRootIsCalled) {
  EXPECT_EQ(parse_versioning_status(fixture("versioning_enabled.xml")), "Enabled");
  EXPECT_EQ(parse_versioning_status(fixture("versioning_never.xml")), "");
  // moto answers with <GetBucketVersioningResponse> (the failure this reading by member fixes).
  EXPECT_EQ(parse_versioning_status(fixture("versioning_moto.xml")), "Enabled");
  EXPECT_EQ(parse_versioning_status(fixture("versioning_moto_never.xml")), "");
  // A query-style <XResponse><XResult> wrapper is looked through; unknown members are ignored.
  EXPECT_EQ(parse_versioning_status(fixture("versioning_wrapped.xml")), "Suspended");
  // An error document is an error, never "versioning off".
  try {
    parse_versioning_status(fixture("error_slowdown.xml"));
    ADD_FAILURE() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kParse);
    EXPECT_NE(std::string(e.what()).find("SlowDown"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_versioning_status(fixture("error_wrapped.xml")), Error);
  EXPECT_THROW(parse_versioning_status("<VersioningConfiguration>"), Error);
}

TEST(S3Xml, ListingsReadMembersByLocalNameAndIgnoreUnknownElements) {
  ListObjectsPage p = parse_list_objects_v2(fixture("list_objects_v2_prefixed.xml"));
  EXPECT_TRUE(p.truncated);
  EXPECT_EQ(p.next_continuation_token, "tok+/=");  // tokens are never decoded
  ASSERT_EQ(p.objects.size(), 1u);
  EXPECT_EQ(p.objects[0].key, "a/x +%\xC3\xA9/./../y");
  EXPECT_EQ(p.objects[0].size, 17u);
  EXPECT_EQ(p.objects[0].last_modified, at("2026-12-02T04:16:41Z"));
}

TEST(S3Xml, ErrorBodies) {
  auto none = aws::parse_error_body(fixture("error_no_such_lifecycle.xml"));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->code, "NoSuchLifecycleConfiguration");
  auto slow = aws::parse_error_body(fixture("error_slowdown.xml"));
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->code, "SlowDown");
  EXPECT_EQ(slow->message, "Please reduce your request rate.");
  auto wrapped = aws::parse_error_body(fixture("error_wrapped.xml"));
  ASSERT_TRUE(wrapped);
  EXPECT_EQ(wrapped->code, "AccessDenied");
  EXPECT_EQ(wrapped->message, "not authorized");
  auto malformed = aws::parse_error_body(fixture("error_authorization_header_malformed.xml"));
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->code, "AuthorizationHeaderMalformed");
  EXPECT_EQ(malformed->region, "eu-central-1");
  auto redirect = aws::parse_error_body(fixture("error_permanent_redirect.xml"));
  ASSERT_TRUE(redirect);
  EXPECT_EQ(redirect->endpoint, "my-bucket.s3.eu-west-2.amazonaws.com");
  EXPECT_TRUE(redirect->region.empty());
  EXPECT_FALSE(aws::parse_error_body(fixture("versioning_enabled.xml")));
  EXPECT_FALSE(aws::parse_error_body(fixture("versioning_moto.xml")));
  EXPECT_FALSE(aws::parse_error_body("not xml at all"));
  EXPECT_FALSE(is_lifecycle_document(fixture("error_no_such_lifecycle.xml")));
  // Swift answers ?lifecycle with a listing: not a lifecycle document.
  EXPECT_FALSE(is_lifecycle_document(fixture("list_objects_v2_last.xml")));
  EXPECT_THROW(parse_lifecycle(fixture("list_objects_v2_last.xml")), Error);
  EXPECT_THROW(parse_lifecycle(fixture("error_no_such_lifecycle.xml")), Error);
}

TEST(S3Xml, RegionHintsFromHeaderOrBody) {
  const std::string eu = "eu-west-2";
  // 301 PermanentRedirect: the header names the region, the body only an endpoint.
  EXPECT_EQ(region_hint(301, &eu, fixture("error_permanent_redirect.xml")), "eu-west-2");
  EXPECT_EQ(region_hint(301, nullptr, fixture("error_permanent_redirect.xml")), "");
  // 400 AuthorizationHeaderMalformed: <Region> in the body.
  EXPECT_EQ(region_hint(400, nullptr, fixture("error_authorization_header_malformed.xml")),
            "eu-central-1");
  // HeadBucket: the header on a 200.
  EXPECT_EQ(region_hint(200, &eu, ""), "eu-west-2");
  EXPECT_EQ(region_hint(200, nullptr, fixture("error_authorization_header_malformed.xml")), "");
  // Other errors say nothing about regions.
  EXPECT_EQ(region_hint(400, nullptr, fixture("error_slowdown.xml")), "");
  EXPECT_EQ(region_hint(400, nullptr, "<Error><Code>InvalidArgument</Code><Region>x</Region></Error>"), "");
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
  EXPECT_FALSE(rules[0].object_size_greater_than);
  EXPECT_EQ(rules[1].prefix, "uploads/tmp/");  // And{Prefix, ObjectSizeGreaterThan}
  EXPECT_EQ(rules[1].object_size_greater_than, 0u);
  EXPECT_FALSE(rules[1].object_size_less_than);
  EXPECT_TRUE(rules[1].tags.empty());
  EXPECT_EQ(rules[2].prefix, "uploads/scratch/");  // legacy rule-level Prefix
  EXPECT_EQ(rules[2].expiration_days, 3);
  EXPECT_EQ(rules[3].prefix, "uploads/");  // And{Prefix, Tag}
  EXPECT_EQ(rules[3].tags, (std::vector<LifecycleTag>{{"class", "log"}}));
  EXPECT_EQ(rules[4].prefix, "");
  EXPECT_FALSE(rules[4].expiration_days);
  EXPECT_TRUE(rules[4].expired_object_delete_marker);
  EXPECT_EQ(rules[4].noncurrent_days, 30);
  EXPECT_EQ(rules[4].newer_noncurrent_versions, 2);
  EXPECT_FALSE(rules[5].enabled);
  EXPECT_EQ(rules[6].expiration_date, at("2027-01-01T00:00:00Z"));
}

TEST(S3Xml, LifecycleSizesAndUnknownElements) {
  std::vector<LifecycleRule> rules = parse_lifecycle(fixture("lifecycle_sizes.xml"));
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].prefix, "");
  EXPECT_EQ(rules[0].object_size_greater_than, 1000u);
  EXPECT_EQ(rules[1].prefix, "logs/");
  EXPECT_EQ(rules[1].object_size_greater_than, 10u);
  EXPECT_EQ(rules[1].object_size_less_than, 100u);
  EXPECT_EQ(rules[1].noncurrent_days, 1);
  EXPECT_EQ(rules[2].object_size_less_than, 5u);
  EXPECT_TRUE(rules[2].expired_object_delete_marker);
  EXPECT_THROW(parse_lifecycle("<LifecycleConfiguration><Rule><Filter><ObjectSizeLessThan>-4"
                               "</ObjectSizeLessThan></Filter></Rule></LifecycleConfiguration>"),
               Error);
  EXPECT_THROW(parse_lifecycle("<LifecycleConfiguration><Rule><Expiration><Days>x</Days>"
                               "</Expiration></Rule></LifecycleConfiguration>"),
               Error);
}

TEST(S3Xml, LifecycleAsMotoAnswersIt) {
  // moto reorders members, writes <Filter/> for "everything" and keeps And{Prefix, Tag}.
  const std::string xml = fixture("lifecycle_moto.xml");
  EXPECT_TRUE(is_lifecycle_document(xml));
  std::vector<LifecycleRule> rules = parse_lifecycle(xml);
  ASSERT_EQ(rules.size(), 5u);
  EXPECT_EQ(rules[0].id, "r1");
  EXPECT_EQ(rules[0].prefix, "a/");
  EXPECT_EQ(rules[0].tags, (std::vector<LifecycleTag>{{"k", "v"}}));
  EXPECT_EQ(rules[0].expiration_days, 3);
  EXPECT_EQ(rules[1].prefix, "b/");
  EXPECT_FALSE(rules[1].enabled);
  EXPECT_EQ(rules[1].expiration_date, at("2027-01-01T00:00:00Z"));
  EXPECT_EQ(rules[2].prefix, "");
  EXPECT_TRUE(rules[2].expired_object_delete_marker);
  EXPECT_EQ(rules[3].tags, (std::vector<LifecycleTag>{{"k", "v"}}));
  EXPECT_EQ(rules[4].noncurrent_days, 1);
  EXPECT_EQ(rules[4].abort_multipart_days, 1);
}

TEST(S3Xml, LifecycleInsideAQueryStyleWrapper) {
  const std::string xml = fixture("lifecycle_wrapped.xml");
  EXPECT_TRUE(is_lifecycle_document(xml));
  std::vector<LifecycleRule> rules = parse_lifecycle(xml);
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].id, "w");
  EXPECT_EQ(rules[0].prefix, "x/");
  EXPECT_EQ(rules[0].expiration_days, 4);
}

TEST(S3Xml, ObjectTagging) {
  EXPECT_EQ(parse_object_tagging(fixture("get_object_tagging.xml")),
            (std::vector<LifecycleTag>{{"class", "log"}, {"team", "video & audio"}}));
  EXPECT_TRUE(parse_object_tagging("<Tagging><TagSet/></Tagging>").empty());
  EXPECT_THROW(parse_object_tagging(fixture("error_slowdown.xml")), Error);
}

TEST(S3Xml, UrlDecode) {
  EXPECT_EQ(url_decode("a+b%20c%2Bd%C3%A9"), "a b c+d\xC3\xA9");
  EXPECT_EQ(url_decode("100%"), "100%");
  EXPECT_EQ(url_decode("%zz%4"), "%zz%4");
}
