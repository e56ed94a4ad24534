#include "core/classify.h"

#include <cmath>
#include <limits>
#include <set>

#include <gtest/gtest.h>

namespace ttla {
namespace {

constexpr int64_t kAsOf = 1795341600;  // 2026-11-22T10:00:00Z

TEST(ClassNames, MatchContract) {
  EXPECT_EQ(class_name(ItemClass::kExpired), "expired");
  EXPECT_EQ(class_name(ItemClass::kNotYetExpired), "not_yet_expired");
  EXPECT_EQ(class_name(ItemClass::kMissingTtl), "missing_ttl");
  EXPECT_EQ(class_name(ItemClass::kNonNumericTtl), "non_numeric_ttl");
  EXPECT_EQ(class_name(ItemClass::kMillisecondsTtl), "milliseconds_ttl");
  EXPECT_EQ(class_name(ItemClass::kBeyondFiveYears), "beyond_five_years");
  std::set<std::string_view> names;
  for (int i = 0; i < kItemClassCount; ++i) names.insert(class_name(static_cast<ItemClass>(i)));
  EXPECT_EQ(names.size(), static_cast<size_t>(kItemClassCount));
}

TEST(ClassNames, HygieneLabelsMatchMetricContract) {
  EXPECT_EQ(hygiene_problem_label(ItemClass::kMissingTtl), "missing");
  EXPECT_EQ(hygiene_problem_label(ItemClass::kNonNumericTtl), "non_numeric");
  EXPECT_EQ(hygiene_problem_label(ItemClass::kMillisecondsTtl), "milliseconds");
  EXPECT_EQ(hygiene_problem_label(ItemClass::kBeyondFiveYears), "beyond_five_years");
  EXPECT_EQ(hygiene_problem_label(ItemClass::kExpired), "");
  EXPECT_EQ(hygiene_problem_label(ItemClass::kNotYetExpired), "");
}

TEST(ClassifyNumber, ExpiredRangeIsInclusiveAtBothEnds) {
  const double five_years_ago = static_cast<double>(kAsOf - kFiveYearsSeconds);
  EXPECT_EQ(classify_number(kAsOf, kAsOf), ItemClass::kExpired);             // value == as_of
  EXPECT_EQ(classify_number(kAsOf - 1, kAsOf), ItemClass::kExpired);
  EXPECT_EQ(classify_number(kAsOf - 0.5, kAsOf), ItemClass::kExpired);
  EXPECT_EQ(classify_number(five_years_ago, kAsOf), ItemClass::kExpired);    // value == as_of-5y
  EXPECT_EQ(classify_number(five_years_ago + 0.25, kAsOf), ItemClass::kExpired);
}

TEST(ClassifyNumber, NotYetExpiredJustAfterAsOf) {
  EXPECT_EQ(classify_number(kAsOf + 1, kAsOf), ItemClass::kNotYetExpired);
  EXPECT_EQ(classify_number(kAsOf + 0.001, kAsOf), ItemClass::kNotYetExpired);
  EXPECT_EQ(classify_number(99999999999.0, kAsOf), ItemClass::kNotYetExpired);  // just below 1e11
}

TEST(ClassifyNumber, MillisecondsFromOneE11) {
  EXPECT_EQ(classify_number(1e11, kAsOf), ItemClass::kMillisecondsTtl);
  EXPECT_EQ(classify_number(std::nextafter(1e11, 0.0), kAsOf), ItemClass::kNotYetExpired);
  EXPECT_EQ(classify_number(1795341600000.0, kAsOf), ItemClass::kMillisecondsTtl);     // epoch ms
  EXPECT_EQ(classify_number(1795341600000000.0, kAsOf), ItemClass::kMillisecondsTtl);  // epoch µs
  EXPECT_EQ(classify_number(std::numeric_limits<double>::infinity(), kAsOf),
            ItemClass::kMillisecondsTtl);
}

TEST(ClassifyNumber, MillisecondsEvenWhenAsOfWouldCallItExpired) {
  // A far-future as_of does not make a >= 1e11 value "expired": DynamoDB never deletes it.
  EXPECT_EQ(classify_number(1.5e11, 200000000000LL), ItemClass::kMillisecondsTtl);
}

TEST(ClassifyNumber, BeyondFiveYearsIncludesZeroAndNegatives) {
  const double five_years_ago = static_cast<double>(kAsOf - kFiveYearsSeconds);
  EXPECT_EQ(classify_number(five_years_ago - 1, kAsOf), ItemClass::kBeyondFiveYears);
  EXPECT_EQ(classify_number(five_years_ago - 0.5, kAsOf), ItemClass::kBeyondFiveYears);
  EXPECT_EQ(classify_number(0, kAsOf), ItemClass::kBeyondFiveYears);
  EXPECT_EQ(classify_number(-0.0, kAsOf), ItemClass::kBeyondFiveYears);
  EXPECT_EQ(classify_number(-1, kAsOf), ItemClass::kBeyondFiveYears);
  EXPECT_EQ(classify_number(-1e300, kAsOf), ItemClass::kBeyondFiveYears);
  EXPECT_EQ(classify_number(-std::numeric_limits<double>::infinity(), kAsOf),
            ItemClass::kBeyondFiveYears);
}

TEST(ClassifyNumber, FiveYearsIsExactly5x365Days) {
  EXPECT_EQ(kFiveYearsSeconds, 157680000);
  EXPECT_EQ(classify_number(kAsOf - 157680000, kAsOf), ItemClass::kExpired);
  EXPECT_EQ(classify_number(kAsOf - 157680001, kAsOf), ItemClass::kBeyondFiveYears);
}

TEST(ClassifyNumber, NanIsNonNumeric) {
  EXPECT_EQ(classify_number(std::nan(""), kAsOf), ItemClass::kNonNumericTtl);
}

TEST(ClassifyNumber, ExactlyOneClassAcrossASweep) {
  // Walk values across every boundary; each lands in the class its rule says.
  const double lo = static_cast<double>(kAsOf - kFiveYearsSeconds);
  for (double v = -10; v < 1.2e11; v = v < 1e9 ? v + 7.3e6 : v * 1.37) {
    ItemClass c = classify_number(v, kAsOf);
    bool expired = v >= lo && v <= kAsOf && v < 1e11;
    bool future = v > kAsOf && v < 1e11;
    bool millis = v >= 1e11;
    bool beyond = v < lo;
    ASSERT_EQ(expired + future + millis + beyond, 1) << v;
    ItemClass want = expired  ? ItemClass::kExpired
                     : future ? ItemClass::kNotYetExpired
                     : millis ? ItemClass::kMillisecondsTtl
                              : ItemClass::kBeyondFiveYears;
    ASSERT_EQ(c, want) << v;
  }
}

TEST(ParseDynamoDbNumber, AcceptsDynamoDbForms) {
  EXPECT_EQ(parse_dynamodb_number("1700000000"), 1700000000.0);
  EXPECT_EQ(parse_dynamodb_number("1700000000.25"), 1700000000.25);
  EXPECT_EQ(parse_dynamodb_number("-5"), -5.0);
  EXPECT_EQ(parse_dynamodb_number("0"), 0.0);
  EXPECT_EQ(parse_dynamodb_number("1.7E9"), 1.7e9);
  EXPECT_EQ(parse_dynamodb_number("1.7e+9"), 1.7e9);
  EXPECT_EQ(parse_dynamodb_number("17e-1"), 1.7);
  EXPECT_EQ(parse_dynamodb_number("+42"), 42.0);
  EXPECT_EQ(parse_dynamodb_number("0.5"), 0.5);
  EXPECT_EQ(parse_dynamodb_number("1E-130"), 1e-130);   // DynamoDB's smallest magnitude
  EXPECT_EQ(parse_dynamodb_number("9.9999999999999999999999999999999999999E+125"), 1e126);
  EXPECT_EQ(parse_dynamodb_number("1795341600000"), 1795341600000.0);
}

TEST(ParseDynamoDbNumber, RejectsGarbage) {
  for (const char* bad : {"", " ", "abc", "12abc", "1 2", " 12", "12 ", "nan", "NaN", "inf", "-inf",
                          "Infinity", "0x10", "1e", "1e+", "--1", "+-1", "++1", ".", "-", "1..2",
                          "1e400", "true", "1,5", "١٢"}) {
    EXPECT_EQ(parse_dynamodb_number(bad), std::nullopt) << '"' << bad << '"';
  }
}

TEST(ParseDynamoDbNumber, FeedsClassification) {
  auto v = parse_dynamodb_number("1795341599.75");
  ASSERT_TRUE(v);
  EXPECT_EQ(classify_number(*v, kAsOf), ItemClass::kExpired);
  EXPECT_EQ(classify_number(*parse_dynamodb_number("1795341600.5"), kAsOf), ItemClass::kNotYetExpired);
}

}  // namespace
}  // namespace ttla
