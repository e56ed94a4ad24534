// parse_scan_page on recorded fixtures in AWS's documented shapes.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "core/error.h"
#include "sources/scan_page.h"
#include "support/fixtures.h"

namespace ttla::dynamodb {
namespace {

constexpr int64_t kAsOf = 1763800000;

std::string fixture(const std::string& name) { return ttla::testing::fixture("dynamodb", name); }

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

// A page of `items` (already joined) with matching Count and ScannedCount.
std::string page_of(const std::string& items, int count) {
  return R"({"Count":)" + std::to_string(count) + R"(,"ScannedCount":)" + std::to_string(count) +
         R"(,"Items":[)" + items + "]}";
}

TEST(DynamodbScanPage, MalformedJsonNumbersAnywhereAreParseErrors) {
  // Raw JSON numbers the parser reads (Count, ScannedCount, CapacityUnits) and those it only
  // skips (inside attributes it does not want, LastEvaluatedKey, unknown top-level members) are
  // all checked: none of these is JSON.
  for (const std::string bad : {"1-2e+", "-", "1.", ".5", "01", "1e", "1e+", "+1", "0x10", "1..2"}) {
    SCOPED_TRACE(bad);
    expect_parse_error(R"({"Count":)" + bad + R"(,"ScannedCount":1,"Items":[{"ttl":{"N":"1"}}]})",
                       "scan page");
    expect_parse_error(R"({"Count":0,"ScannedCount":)" + bad + R"(,"Items":[]})", "scan page");
    expect_parse_error(R"({"ConsumedCapacity":{"CapacityUnits":)" + bad +
                           R"(},"Count":0,"ScannedCount":0,"Items":[]})",
                       "scan page");
    expect_parse_error(R"({"ConsumedCapacity":{"ReadCapacityUnits":)" + bad +
                           R"(},"Count":0,"ScannedCount":0,"Items":[]})",
                       "scan page");
    expect_parse_error(page_of(R"({"ttl":{"N":"1"},"size":)" + bad + "}", 1), "scan page");
    expect_parse_error(page_of(R"({"ttl":{"N":"1"},"meta":{"M":{"v":{"L":[)" + bad + "]}}}}", 1),
                       "scan page");
    expect_parse_error(page_of(R"({"ttl":{"N":"1"},"pk":{"S":"a"},"sk":{"S":"b"}})", 1).insert(1, R"("Extra":)" + bad + ","),
                       "scan page");
    expect_parse_error(R"({"Count":0,"ScannedCount":0,"Items":[],"LastEvaluatedKey":{"pk":{"N":)" +
                           bad + "}}}",
                       "scan page");
  }
  // Misspelt literals are caught the same way.
  for (const std::string bad : {"tru", "fals", "nul", "True", "nulll"}) {
    SCOPED_TRACE(bad);
    expect_parse_error(page_of(R"({"ttl":{"N":"1"},"flag":{"BOOL":)" + bad + "}}", 1), "scan page");
    expect_parse_error(page_of(R"({"ttl":{"NULL":)" + bad + "}}", 1), "scan page");
  }
}

TEST(DynamodbScanPage, MalformedTtlNumberRejectsThePage) {
  // DynamoDB accepts only valid Numbers on write, so an N that is not one means the page is
  // not an intact DynamoDB answer: it is rejected (kParse), never counted as a number and not
  // filed under non_numeric_ttl (that class is for TTLs stored as another type).
  for (const std::string bad :
       {"1-2e+", "", " 1763700000", "1763700000 ", "1e", "--1", "+-1", "1.2.3", "0x10", "nan",
        "inf", "1e400", "17637OOOOO", "1_763_700_000"}) {
    SCOPED_TRACE(bad);
    expect_parse_error(page_of(R"({"pk":{"S":"a"},"ttl":{"N":")" + bad + R"("}})", 1), "not a number");
  }
  // Escapes in an N are undone before the number is read: \u0031 is '1'.
  TargetStats stats;
  parse_text(page_of(R"({"pk":{"S":"a"},"sk":{"S":"b"},"ttl":{"N":"\u00317637\u0030\u0030000"}})", 1),
             sessions_schema(), stats);
  ASSERT_EQ(stats.expired_count(), 1u);
  EXPECT_DOUBLE_EQ(stats.oldest_items()[0].deadline, 1763700000.0);
  // Other spellings the Number rules accept (exponent, sign) are classified as numbers.
  TargetStats ok;
  parse_text(page_of(R"({"ttl":{"N":"1.7637E9"}},{"ttl":{"N":"+1763700000"}},{"ttl":{"N":"-0"}})", 3),
             sessions_schema(), ok);
  EXPECT_EQ(ok.class_count(ItemClass::kExpired), 2u);
  EXPECT_EQ(ok.class_count(ItemClass::kBeyondFiveYears), 1u);
}

TEST(DynamodbScanPage, EscapedAttributeNamesAndValues) {
  // Names of wanted attributes may be escaped on the wire, or hold quotes and backslashes
  // themselves; values are unescaped before they are rendered.
  ItemSchema s;
  s.ttl_attribute = "t\"l";
  s.key_attributes = {"p\\k", "sk"};
  GroupBy g;
  g.attribute = "grp";
  s.group_by = g;
  const std::string page = page_of(
      R"({"p\\k":{"S":"a\tb\u00e9"},"\u0073k":{"S":"s\/1"},"t\"l":{"N":"1763700000"},"gr\u0070":{"S":"g\"1"}},)"
      R"({"p\\k":{"S":"x"},"sk":{"S":"y"},"t\u0022l":{"N":"1763700001"},"grp":{"S":"g\"1"},"t\\l":{"N":"1"}},)"
      R"({"p\\k":{"S":"z"},"sk":{"S":"w"},"tl":{"N":"1763700002"},"t\\\"l":{"N":"1763700003"}})",
      3);
  TargetStats stats;
  ScanPageParser parser(s);
  struct Keys : ExpiredItemObserver {
    void expired(std::string_view, double, const ScanPageParser& p) override {
      json.push_back(p.key_json());
    }
    std::vector<std::string> json;
  } keys;
  parser.set_observer(&keys);
  std::string text = page;
  ScanPageResult r = parser.parse(pad_in_place(text), kAsOf, stats);
  EXPECT_EQ(r.class_counts[static_cast<size_t>(ItemClass::kExpired)], 2u);
  // The third item spells neither "t\"l" (it has "tl" and "t\\\"l"): its TTL is missing.
  EXPECT_EQ(r.class_counts[static_cast<size_t>(ItemClass::kMissingTtl)], 1u);
  std::vector<ItemRef> items = stats.oldest_items();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].key, "p\\k=a\tb\xC3\xA9,sk=s/1");
  EXPECT_EQ(items[1].key, "p\\k=x,sk=y");
  auto groups = stats.top_groups();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].first, "g\"1");
  EXPECT_EQ(groups[0].second, 2u);
  // key_json escapes again what it hands on (valid JSON, same strings).
  ASSERT_EQ(keys.json.size(), 2u);
  EXPECT_EQ(keys.json[0], R"({"p\\k":{"S":"a\tb)" "\xC3\xA9" R"("},"sk":{"S":"s/1"}})");
  // Broken escapes are not JSON.
  expect_parse_error(page_of(R"({"ttl":{"N":"1"},"pk":{"S":"a\qb"}})", 1), "scan page");
  expect_parse_error(page_of(R"({"ttl":{"N":"1\u12"}})", 1), "scan page");
  expect_parse_error(page_of(R"({"t\u0074l":{"N":"1"},"\x":{"S":"a"}})", 1), "scan page");
}

TEST(DynamodbScanPage, NestedMapsAndListsAreSkippedWhole) {
  // Attributes named like the wanted ones inside M/L values, arrays of arrays and empty
  // containers do not leak into the item; the item's own attributes after them still count.
  const std::string page = page_of(
      R"({"data":{"M":{"ttl":{"N":"1763700000"},"pk":{"S":"inner"},"deep":{"L":[{"M":{"ttl":{"N":"5"}}},)"
      R"({"L":[[],{},[[{"ttl":{"N":"6"}}]]]}]}}},"pk":{"S":"outer1"},"sk":{"S":"s"},"ttl":{"N":"1763700000"}},)"
      R"({"list":{"L":[{"M":{"ttl":{"N":"1763700000"}}}]},"pk":{"S":"outer2"},"sk":{"S":"s"}},)"
      R"({"pk":{"S":"outer3"},"ttl":{"M":{"ttl":{"N":"1763700000"}}},"sk":{"S":"s"},"empty":{"M":{}}},)"
      R"({"ns":{"NS":["1","2"]},"ss":{"SS":["a"]},"bs":{"BS":["YQ=="]},"nul":{"NULL":true},"b":{"BOOL":false},)"
      R"("pk":{"S":"outer4"},"sk":{"S":"s"},"ttl":{"N":"1763700000"}})",
      4);
  TargetStats stats;
  ScanPageResult r = parse_text(page, sessions_schema(), stats);
  EXPECT_EQ(r.class_counts[static_cast<size_t>(ItemClass::kExpired)], 2u);
  EXPECT_EQ(r.class_counts[static_cast<size_t>(ItemClass::kMissingTtl)], 1u);
  EXPECT_EQ(r.class_counts[static_cast<size_t>(ItemClass::kNonNumericTtl)], 1u);
  std::vector<ItemRef> items = stats.oldest_items();
  ASSERT_EQ(items.size(), 2u);
  std::vector<std::string> keys{items[0].key, items[1].key};
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys[0], "pk=outer1,sk=s");
  EXPECT_EQ(keys[1], "pk=outer4,sk=s");
  // A wanted attribute's AttributeValue has exactly one member.
  expect_parse_error(page_of(R"({"ttl":{"N":"1","S":"x"}})", 1), "more than one member");
  expect_parse_error(page_of(R"({"ttl":{}})", 1), "AttributeValue");
  expect_parse_error(page_of(R"({"ttl":{"N":1763700000}})", 1), "not a valid string");
  // Brackets that do not match inside a skipped value.
  expect_parse_error(page_of(R"({"ttl":{"N":"1"},"x":{"L":[{"S":"a"}}]})", 1), "scan page");
  expect_parse_error(page_of(R"({"ttl":{"N":"1"},"x":{"M":{"a" "b"}}})", 1), "scan page");
  expect_parse_error(page_of(R"({"ttl":{"N":"1"},"x":{"L":[1,,2]}})", 1), "scan page");
  // Deeper than DynamoDB allows (32 levels of M/L) is refused rather than recursed into.
  std::string deep = R"({"ttl":{"N":"1"},"x":)";
  for (int i = 0; i < 40; ++i) deep += R"({"L":[)";
  deep += "1";
  for (int i = 0; i < 40; ++i) deep += "]}";
  expect_parse_error(page_of(deep + "}", 1), "nesting too deep");
}

TEST(DynamodbScanPage, EveryTruncationOfARichPageIsAParseError) {
  // The all-classes page has escapes, spaces, nested M/L and a LastEvaluatedKey: a cut anywhere
  // is refused (never a shorter page taken as whole).
  std::string full = fixture("scan_page_all_classes.json");
  while (!full.empty() && full.back() == '\n') full.pop_back();
  for (size_t cut = 0; cut < full.size(); ++cut) {
    TargetStats stats;
    std::string part = full.substr(0, cut);
    EXPECT_THROW(parse_text(part, sessions_schema(), stats), Error) << part.size();
  }
  TargetStats stats;
  EXPECT_NO_THROW(parse_text(full, sessions_schema(), stats));
}
}  // namespace
}  // namespace ttla::dynamodb
