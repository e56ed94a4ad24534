// parse_scan_page on recorded fixtures in AWS's documented shapes.
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "core/error.h"
#include "sources/scan_page.h"

namespace ttla::dynamodb {
namespace {

constexpr int64_t kAsOf = 1763800000;

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(TTLA_SOURCE_DIR) + "/tests/fixtures/dynamodb/" + name);
  EXPECT_TRUE(in) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ItemSchema sessions_schema() {
  ItemSchema s;
  s.ttl_attribute = "ttl";
  s.key_attributes = {"pk", "sk"};
  GroupBy g;
  g.attribute = "pk";
  g.split = "#";
  g.part = 0;
  s.group_by = g;
  return s;
}

ScanPageResult parse_text(std::string text, const ItemSchema& schema, TargetStats& stats,
                          int64_t as_of = kAsOf) {
  return parse_scan_page(pad_in_place(text), schema, as_of, stats);
}

TEST(DynamodbScanPage, EveryClassCountedOnce) {
  TargetStats stats;
  ScanPageResult r = parse_text(fixture("scan_page_all_classes.json"), sessions_schema(), stats);
  EXPECT_EQ(r.count, 19u);
  EXPECT_EQ(r.scanned_count, 25u);
  ASSERT_TRUE(r.consumed_capacity.has_value());
  EXPECT_DOUBLE_EQ(*r.consumed_capacity, 2.5);
  EXPECT_EQ(r.last_evaluated_key, R"({"pk":{"S":"user8#b"},"sk":{"S":"s1"}})");

  EXPECT_EQ(stats.class_count(ItemClass::kExpired), 5u);
  EXPECT_EQ(stats.class_count(ItemClass::kNotYetExpired), 2u);
  EXPECT_EQ(stats.class_count(ItemClass::kMillisecondsTtl), 2u);
  EXPECT_EQ(stats.class_count(ItemClass::kBeyondFiveYears), 4u);
  EXPECT_EQ(stats.class_count(ItemClass::kNonNumericTtl), 4u);
  EXPECT_EQ(stats.class_count(ItemClass::kMissingTtl), 2u);
  // The page's own tally agrees with what went into the stats.
  uint64_t total = 0;
  for (int c = 0; c < kItemClassCount; ++c) {
    EXPECT_EQ(r.class_counts[static_cast<size_t>(c)], stats.class_count(static_cast<ItemClass>(c)))
        << class_name(static_cast<ItemClass>(c));
    total += r.class_counts[static_cast<size_t>(c)];
  }
  EXPECT_EQ(total, r.count);
}

TEST(DynamodbScanPage, ExpiredItemsCarryKeysOverdueAndGroups) {
  TargetStats stats;
  parse_text(fixture("scan_page_all_classes.json"), sessions_schema(), stats);
  std::vector<ItemRef> oldest = stats.oldest_items();
  ASSERT_EQ(oldest.size(), 5u);
  // The item exactly five years old is the oldest; its key had escapes in the JSON.
  EXPECT_EQ(oldest[0].key, "pk=user\"3#a,sk=s\\1");
  EXPECT_DOUBLE_EQ(oldest[0].overdue_seconds, static_cast<double>(kFiveYearsSeconds));
  EXPECT_DOUBLE_EQ(oldest[0].deadline, 1606120000.0);
  // Decimal seconds are kept: 1763799999.75 is 0.25 s overdue; as_of itself is 0 s overdue.
  EXPECT_DOUBLE_EQ(stats.newest_overdue_seconds(), 0.0);
  bool saw_decimal = false;
  for (const ItemRef& item : oldest) {
    if (item.key == "pk=user1#b,sk=s1") {
      saw_decimal = true;
      EXPECT_DOUBLE_EQ(item.overdue_seconds, 0.25);
    }
  }
  EXPECT_TRUE(saw_decimal);
  auto groups = stats.top_groups();
  ASSERT_GE(groups.size(), 3u);
  EXPECT_EQ(groups[0].second, 2u);
  EXPECT_EQ(groups[1].second, 2u);
  EXPECT_EQ(groups[0].first, "user1");
  EXPECT_EQ(groups[1].first, "user2");
  EXPECT_EQ(groups[2].first, "user\"3");
}

TEST(DynamodbScanPage, AsOfMovesItemsBetweenClasses) {
  // A week later the two not-yet-expired items (1763800001, 99999999999): the first expires.
  TargetStats stats;
  parse_text(fixture("scan_page_all_classes.json"), sessions_schema(), stats, kAsOf + 7 * 86400);
  EXPECT_EQ(stats.class_count(ItemClass::kNotYetExpired), 1u);
  // 1606120000 is now beyond five years.
  EXPECT_EQ(stats.class_count(ItemClass::kExpired), 5u);
  EXPECT_EQ(stats.class_count(ItemClass::kBeyondFiveYears), 5u);
}

TEST(DynamodbScanPage, GroupFormatAndNegativePart) {
  ItemSchema s = sessions_schema();
  GroupBy g;
  g.format = "{sk}/{pk}";
  s.group_by = g;
  TargetStats stats;
  parse_text(fixture("scan_page_all_classes.json"), s, stats);
  auto groups = stats.top_groups();
  ASSERT_FALSE(groups.empty());
  EXPECT_EQ(groups[0].first, "s1/user1#a");

  GroupBy last;
  last.attribute = "pk";
  last.split = "#";
  last.part = -1;
  s.group_by = last;
  TargetStats stats2;
  parse_text(fixture("scan_page_all_classes.json"), s, stats2);
  auto g2 = stats2.top_groups();
  ASSERT_FALSE(g2.empty());
  EXPECT_EQ(g2[0].first, "a");
  EXPECT_EQ(g2[0].second, 3u);  // user1#a user2#a user"3#a
}

TEST(DynamodbScanPage, LastPageHasNoKey) {
  TargetStats stats;
  ScanPageResult r = parse_text(fixture("scan_page_last.json"), sessions_schema(), stats);
  EXPECT_TRUE(r.last_evaluated_key.empty());
  EXPECT_EQ(r.count, 1u);
  EXPECT_EQ(stats.expired_count(), 1u);
  TargetStats empty_stats;
  ScanPageResult e = parse_text(fixture("scan_page_empty.json"), sessions_schema(), empty_stats);
  EXPECT_EQ(e.count, 0u);
  EXPECT_EQ(e.scanned_count, 3u);
}

void expect_parse_error(const std::string& body, const std::string& needle) {
  TargetStats stats;
  try {
    parse_text(body, sessions_schema(), stats);
    ADD_FAILURE() << "no error for: " << body.substr(0, 80);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kParse);
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(DynamodbScanPage, TruncatedPageIsAParseError) {
  expect_parse_error(fixture("scan_page_truncated.json"), "scan page");
  // Cut at every structural boundary of a small page: never accepted.
  std::string full = fixture("scan_page_last.json");
  while (!full.empty() && (full.back() == '\n')) full.pop_back();
  for (size_t cut = 1; cut < full.size(); ++cut) {
    TargetStats stats;
    std::string part = full.substr(0, cut);
    EXPECT_THROW(parse_text(part, sessions_schema(), stats), Error) << part;
  }
}

TEST(DynamodbScanPage, ErrorBodiesNameTheError) {
  expect_parse_error(fixture("error_throttling.json"), "ThrottlingException: Rate of requests");
  expect_parse_error(fixture("error_provisioned_throughput.json"),
                     "ProvisionedThroughputExceededException");
}

TEST(DynamodbScanPage, MalformedPagesAreParseErrors) {
  expect_parse_error("[]", "not an object");
  expect_parse_error("{}", "Count or ScannedCount missing");
  expect_parse_error(R"({"Count":2,"ScannedCount":2,"Items":[{"ttl":{"N":"1"}}]})",
                     "Count says 2 items but Items holds 1");
  expect_parse_error(R"({"Count":1,"ScannedCount":1,"Items":[{"ttl":"1"}]})", "AttributeValue");
  expect_parse_error(R"({"Count":1,"ScannedCount":1,"Items":[{"ttl":{"N":"abc"}}]})",
                     "not a number");
  expect_parse_error(R"({"Count":1,"ScannedCount":0,"Items":[{"x":{"N":"1"}}]})",
                     "ScannedCount below Count");
  expect_parse_error(R"({"Count":0,"ScannedCount":0,"Items":[]} {})", "trailing");
  expect_parse_error("", "scan page");
}

TEST(DynamodbScanPage, ParserIsReusableAcrossPages) {
  ScanPageParser parser(sessions_schema());
  TargetStats stats;
  for (int i = 0; i < 3; ++i) {
    std::string page = fixture("scan_page_all_classes.json");
    parser.parse(pad_in_place(page), kAsOf, stats);
  }
  EXPECT_EQ(stats.expired_count(), 15u);
  EXPECT_EQ(stats.class_count(ItemClass::kMissingTtl), 6u);
}

TEST(DynamodbScanPage, UnicodeAttributeNamesMatchEscapedForms) {
  ItemSchema s;
  s.ttl_attribute = "\xC3\xA9xpiry";  // "éxpiry"
  s.key_attributes = {"id"};
  // The second item spells the name in raw UTF-8 (what the JSON escape above stands for).
  std::string page = std::string(R"({"Count":2,"ScannedCount":2,"Items":[{"id":{"N":"1"},"\u00e9xpiry":{"N":"1763700000"}},{"id":{"N":"2"},")") +
         "\xC3\xA9xpiry" + R"(":{"N":"1763700000"}}]})";
  TargetStats stats;
  parse_text(page, s, stats);
  EXPECT_EQ(stats.expired_count(), 2u);
  auto items = stats.oldest_items();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_TRUE(items[0].key == "id=1" || items[0].key == "id=2") << items[0].key;
}

}  // namespace
}  // namespace ttla::dynamodb
