// Lifecycle evaluation (sources/s3_lifecycle.h) on the recorded lifecycle documents in
// tests/fixtures/s3: which rules apply under a prefix, per-object deadlines for every rule shape
// (Filter.Prefix, legacy Prefix, And with sizes, size bounds, Disabled, Date, Days, overlapping
// rules), tag filters reported and not applied, lifecycle_missing only without any rule that can
// expire keys under the prefix, deadline rounding and the noncurrent / delete-marker walk.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "core/time.h"
#include "sources/s3_lifecycle.h"
#include "aws/s3_xml.h"
#include "support/fixtures.h"

using namespace ttla;
using namespace ttla::s3;

namespace {

std::string fixture(const std::string& name) { return ttla::testing::fixture("s3", name); }

int64_t at(const char* rfc3339) { return *parse_time(rfc3339); }

using Ids = std::vector<std::string>;

}  // namespace

TEST(S3Lifecycle, RulesUnderAPrefix) {
  std::vector<LifecycleRule> rules = parse_lifecycle(fixture("lifecycle_rules.xml"));
  Lifecycle l(rules, "uploads/");
  // tmp-fast (And{Prefix, size}) and scratch-legacy extend the prefix; versions ("") covers it.
  EXPECT_EQ(l.applied_ids(), (Ids{"expire-uploads", "tmp-fast", "scratch-legacy", "versions"}));
  EXPECT_EQ(l.not_evaluated(), (Ids{"tagged-logs: Tag"}));
  EXPECT_EQ(l.disabled_ids(), (Ids{"disabled-archive"}));
  EXPECT_TRUE(l.can_expire());
  EXPECT_TRUE(l.any_noncurrent());
  EXPECT_TRUE(l.any_delete_marker());

  // A narrower prefix is reached by the broader rules; "logs/" only by its own and "".
  EXPECT_EQ(Lifecycle(rules, "uploads/scratch/2026/").applied_ids(),
            (Ids{"expire-uploads", "scratch-legacy", "versions"}));
  EXPECT_EQ(Lifecycle(rules, "logs/").applied_ids(), (Ids{"versions", "other-prefix"}));
  // Sharing characters is not sharing a prefix.
  Lifecycle other(rules, "uploadsX/");
  EXPECT_EQ(other.applied_ids(), Ids{"versions"});
  EXPECT_FALSE(other.can_expire());  // "versions" expires no current object
  // The empty prefix reaches every rule.
  EXPECT_EQ(Lifecycle(rules, "").applied_ids().size(), 5u);
}

TEST(S3Lifecycle, DeadlinesForEveryRuleShapeEarliestWins) {
  std::vector<LifecycleRule> rules = parse_lifecycle(fixture("lifecycle_rules.xml"));
  Lifecycle l(rules, "");
  const int64_t created = at("2026-11-20T10:00:00Z");
  // Filter.Prefix uploads/ 7 days.
  EXPECT_EQ(l.expiration_deadline("uploads/a.mp4", 5, created), at("2026-11-28T00:00:00Z"));
  // And{uploads/tmp/, size > 0}: 1 day for a non-empty object; the empty one only gets 7 days.
  EXPECT_EQ(l.expiration_deadline("uploads/tmp/a", 1, created), at("2026-11-22T00:00:00Z"));
  EXPECT_EQ(l.expiration_deadline("uploads/tmp/a", 0, created), at("2026-11-28T00:00:00Z"));
  // Legacy rule-level Prefix, 3 days, overlapping the 7-day rule: the earlier deadline wins.
  EXPECT_EQ(l.expiration_deadline("uploads/scratch/x", 9, created), at("2026-11-24T00:00:00Z"));
  // The tag rule (2 days) is not applied; the disabled 1-day rule is ignored.
  EXPECT_EQ(l.expiration_deadline("uploads/log.txt", 9, created), at("2026-11-28T00:00:00Z"));
  // Expiration.Date: that day; an object created after it expires at creation.
  EXPECT_EQ(l.expiration_deadline("logs/a", 1, created), at("2027-01-01T00:00:00Z"));
  EXPECT_EQ(l.expiration_deadline("logs/a", 1, at("2027-02-01T10:00:00Z")),
            at("2027-02-01T10:00:00Z"));
  // Nothing expires keys outside every expiring rule.
  EXPECT_FALSE(l.expiration_deadline("other/a", 1, created));
  // Abort: uploads/ 2 days; size-filtered rules never abort uploads (no size yet).
  EXPECT_EQ(l.abort_deadline("uploads/tmp/big", created), at("2026-11-23T00:00:00Z"));
  EXPECT_FALSE(l.abort_deadline("logs/a", created));
}

TEST(S3Lifecycle, ObjectSizeBoundsAreStrictAndPerObject) {
  std::vector<LifecycleRule> rules = parse_lifecycle(fixture("lifecycle_sizes.xml"));
  Lifecycle l(rules, "");
  const int64_t created = at("2026-11-20T00:00:00Z");
  EXPECT_FALSE(l.expiration_deadline("a", 1000, created));  // > 1000 is strict
  EXPECT_EQ(l.expiration_deadline("a", 1001, created), at("2026-11-21T00:00:00Z"));
  EXPECT_FALSE(l.expiration_deadline("logs/a", 10, created));  // 10 < size < 100
  EXPECT_EQ(l.expiration_deadline("logs/a", 11, created), at("2026-11-22T00:00:00Z"));
  EXPECT_EQ(l.expiration_deadline("logs/a", 99, created), at("2026-11-22T00:00:00Z"));
  EXPECT_FALSE(l.expiration_deadline("logs/a", 100, created));
  // Both "big" (1 day) and "mid-logs" cannot hold at once; "big" alone for a big log.
  EXPECT_EQ(l.expiration_deadline("logs/a", 5000, created), at("2026-11-21T00:00:00Z"));
  // Noncurrent versions are matched by their own size.
  EXPECT_EQ(l.noncurrent_deadline("logs/a", 50, created, 0), at("2026-11-21T00:00:00Z"));
  EXPECT_FALSE(l.noncurrent_deadline("logs/a", 500, created, 0));
  // Lone delete markers are zero-byte entries: "small-only" (< 5) removes them.
  EXPECT_TRUE(l.removes_lone_delete_marker("anything"));
  EXPECT_TRUE(l.can_expire());
  EXPECT_TRUE(l.not_evaluated().empty());
}

TEST(S3Lifecycle, LifecycleMissingOnlyWhenNoRuleCanExpireUnderThePrefix) {
  auto rule = [](std::string prefix, bool enabled, std::optional<int64_t> days) {
    LifecycleRule r;
    r.id = prefix;
    r.prefix = std::move(prefix);
    r.enabled = enabled;
    r.expiration_days = days;
    return r;
  };
  // A rule covering only part of the prefix can expire keys under it: not missing.
  EXPECT_TRUE(Lifecycle({rule("data/tmp/", true, 1)}, "data/").can_expire());
  // A disabled rule, a rule elsewhere, a noncurrent-only rule: missing.
  EXPECT_FALSE(Lifecycle({rule("data/", false, 1)}, "data/").can_expire());
  EXPECT_FALSE(Lifecycle({rule("logs/", true, 1)}, "data/").can_expire());
  LifecycleRule nc = rule("data/", true, std::nullopt);
  nc.noncurrent_days = 3;
  EXPECT_FALSE(Lifecycle({nc}, "data/").can_expire());
  // A tag-filtered rule can expire keys (the auditor cannot tell which): not missing, but
  // reported as not evaluated and not applied.
  LifecycleRule tagged = rule("data/", true, 1);
  tagged.tags.push_back({"class", "tmp"});
  Lifecycle t({tagged}, "data/");
  EXPECT_TRUE(t.can_expire());
  EXPECT_FALSE(t.any_expiration());
  EXPECT_EQ(t.not_evaluated(), Ids{"data/: Tag"});
  EXPECT_FALSE(t.expiration_deadline("data/x", 1, 0));
}

TEST(S3Lifecycle, MotoShapedConfiguration) {
  Lifecycle l(parse_lifecycle(fixture("lifecycle_moto.xml")), "");
  EXPECT_EQ(l.applied_ids(), (Ids{"r3", "r5"}));
  EXPECT_EQ(l.not_evaluated(), (Ids{"r1: Tag", "r4: Tag"}));
  EXPECT_EQ(l.disabled_ids(), Ids{"r2"});
  EXPECT_TRUE(l.removes_lone_delete_marker("x"));
  EXPECT_FALSE(l.any_expiration());
}

TEST(S3Lifecycle, DeadlineRoundsUpToMidnightUtcAtDayBoundaries) {
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

TEST(S3Lifecycle, NoncurrentDerivationFromVersionListAcrossPages) {
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
  EXPECT_EQ(r.delete_markers_lone_expired, 0u);  // no lifecycle given
  EXPECT_EQ(r.oldest_expired_deadline, at("2026-11-14T00:00:00Z"));

  // Just before the third key's first noncurrent deadline, only two are expired.
  NoncurrentWalker early(at("2026-11-21T23:59:59Z"), 86400);
  for (const auto& name : {"list_object_versions_truncated.xml", "list_object_versions_last.xml"}) {
    for (const VersionEntry& e : parse_list_object_versions(fixture(name)).entries) early.add(e);
  }
  early.finish();
  EXPECT_EQ(early.result().expired_count, 2u);
  EXPECT_EQ(early.result().expired_bytes, 434234u + 1000u);

  // With the fixture's lifecycle ("versions": ExpiredObjectDeleteMarker, 30 noncurrent days
  // keeping 2 newer): the lone marker is one a rule removes; nothing is 30 days noncurrent.
  std::vector<LifecycleRule> rules = parse_lifecycle(fixture("lifecycle_rules.xml"));
  Lifecycle l(rules, "");
  NoncurrentWalker lw(as_of, std::nullopt, &l);
  for (const auto& name : {"list_object_versions_truncated.xml", "list_object_versions_last.xml"}) {
    for (const VersionEntry& e : parse_list_object_versions(fixture(name)).entries) lw.add(e);
  }
  lw.finish();
  EXPECT_EQ(lw.result().delete_markers_lone, 1u);
  EXPECT_EQ(lw.result().delete_markers_lone_expired, 1u);
  EXPECT_EQ(lw.result().expired_count, 0u);
}

TEST(S3Lifecycle, NoncurrentKeepsNewerNoncurrentVersionsAndOverlappingRulesTakeTheEarliest) {
  // One key with four versions; the rule keeps the 2 newest noncurrent ones whatever their age.
  std::vector<VersionEntry> entries = {
      {"k", "v4", true, false, at("2026-11-04T00:00:00Z"), 4},
      {"k", "v3", false, false, at("2026-11-03T00:00:00Z"), 3},
      {"k", "v2", false, false, at("2026-11-02T00:00:00Z"), 2},
      {"k", "v1", false, false, at("2026-11-01T00:00:00Z"), 1},
  };
  LifecycleRule keep2;
  keep2.id = "keep2";
  keep2.enabled = true;
  keep2.noncurrent_days = 1;
  keep2.newer_noncurrent_versions = 2;
  Lifecycle l({keep2}, "");
  NoncurrentWalker w(at("2026-12-01T00:00:00Z"), std::nullopt, &l);
  for (const auto& e : entries) w.add(e);
  w.finish();
  EXPECT_EQ(w.result().noncurrent, 3u);
  EXPECT_EQ(w.result().expired_count, 1u);
  EXPECT_EQ(w.result().expired_bytes, 1u);
  EXPECT_EQ(w.result().delete_markers_lone, 0u);

  // A second rule without a keep count but 40 days: v3 and v2 are not 40 days noncurrent by
  // 12-01 (since 11-04 / 11-03), so only v1 still expires; at 12-20 all three do.
  LifecycleRule slow;
  slow.id = "slow";
  slow.enabled = true;
  slow.noncurrent_days = 40;
  Lifecycle both({keep2, slow}, "");
  NoncurrentWalker w2(at("2026-12-01T00:00:00Z"), std::nullopt, &both);
  for (const auto& e : entries) w2.add(e);
  w2.finish();
  EXPECT_EQ(w2.result().expired_count, 1u);
  NoncurrentWalker w3(at("2026-12-20T00:00:00Z"), std::nullopt, &both);
  for (const auto& e : entries) w3.add(e);
  w3.finish();
  EXPECT_EQ(w3.result().expired_count, 3u);
}

TEST(S3Lifecycle, VersionPagesListingMarkersAfterAllVersionsAreOrderedPerKey) {
  // moto lists every Version, then every DeleteMarker: v/gone's marker comes last although it
  // is that key's newest entry. Read in document order, v/gone would look like a current
  // version plus a lone marker.
  std::vector<VersionEntry> page =
      parse_list_object_versions(fixture("list_object_versions_moto.xml")).entries;
  ASSERT_EQ(page.size(), 6u);
  EXPECT_EQ(page[4].key, "v/gone");
  order_version_page(page);
  std::vector<std::string> order;
  for (const auto& e : page) order.push_back(e.key + (e.delete_marker ? "#m" : "#" + e.version_id));
  EXPECT_EQ(order, (Ids{"v/a#a3", "v/a#a2", "v/gone#m", "v/gone#g1", "v/lone#m", "v/tmp#t1"}));

  NoncurrentWalker w(at("2026-11-23T00:00:00Z"), 86400);
  for (const auto& e : page) w.add(e);
  w.finish();
  // v/a#a2 noncurrent since 11-20 04:32:06 -> 11-22: expired; v/gone#g1 since the marker
  // (11-21 04:32:07) -> 11-23 00:00: expired at as_of; one lone marker (v/lone).
  EXPECT_EQ(w.result().noncurrent, 2u);
  EXPECT_EQ(w.result().expired_count, 2u);
  EXPECT_EQ(w.result().expired_bytes, 27u);
  EXPECT_EQ(w.result().delete_markers_lone, 1u);

  // An AWS page (already newest first, markers interleaved) keeps its order.
  std::vector<VersionEntry> aws =
      parse_list_object_versions(fixture("list_object_versions_truncated.xml")).entries;
  std::vector<VersionEntry> sorted = aws;
  order_version_page(sorted);
  for (size_t i = 0; i < aws.size(); ++i) {
    EXPECT_EQ(sorted[i].key, aws[i].key);
    EXPECT_EQ(sorted[i].version_id, aws[i].version_id);
  }
}

TEST(S3Lifecycle, TagFiltersApplyOnlyWhenTagsAreReadAndAllMatch) {
  std::vector<LifecycleRule> rules = parse_lifecycle(fixture("lifecycle_rules.xml"));
  const int64_t created = at("2026-11-20T10:00:00Z");
  const std::vector<LifecycleTag> log = {{"other", "x"}, {"class", "log"}};
  const std::vector<LifecycleTag> video = {{"class", "video"}};
  // Without reading tags: "tagged-logs" (And{uploads/, class=log}, 2 days) is only reported.
  Lifecycle off(rules, "uploads/");
  EXPECT_FALSE(off.evaluates_tags());
  EXPECT_FALSE(off.needs_tags("uploads/a", 1));
  EXPECT_EQ(off.expiration_deadline("uploads/a", 1, created, &log), at("2026-11-28T00:00:00Z"));
  // Reading tags: applied to objects carrying class=log, reported as applied, not "not evaluated".
  Lifecycle on(rules, "uploads/", true);
  EXPECT_TRUE(on.evaluates_tags());
  EXPECT_TRUE(on.not_evaluated().empty());
  EXPECT_EQ(on.applied_ids(),
            (Ids{"expire-uploads", "tmp-fast", "scratch-legacy", "tagged-logs", "versions"}));
  EXPECT_TRUE(on.needs_tags("uploads/a", 1));
  EXPECT_FALSE(on.needs_tags("other/a", 1));
  EXPECT_EQ(on.expiration_deadline("uploads/a", 1, created, &log), at("2026-11-23T00:00:00Z"));
  EXPECT_EQ(on.expiration_deadline("uploads/a", 1, created, &video), at("2026-11-28T00:00:00Z"));
  // Tags unknown (past the request budget): the tag rule is not applied.
  EXPECT_EQ(on.expiration_deadline("uploads/a", 1, created), at("2026-11-28T00:00:00Z"));
  // Tag rules never apply where no tags are read: uploads, noncurrent versions, markers.
  EXPECT_EQ(on.abort_deadline("uploads/a", created), at("2026-11-23T00:00:00Z"));  // expire-uploads
}
