#include "aws/cloudwatch.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "support/fixtures.h"

namespace ttla::cloudwatch {
namespace {

constexpr int64_t kMidnight = 1795996800;  // 2026-11-30T00:00:00Z

std::string fixture(const std::string& name) { return ttla::testing::fixture("cloudwatch", name); }

ErrorKind kind_of(const std::string& xml) {
  try {
    parse_get_metric_data(xml);
  } catch (const Error& e) {
    return e.kind();
  }
  return ErrorKind::kInternal;
}

TEST(CloudWatch, ParamsNameOneSumQueryWithItsDimension) {
  MetricQuery q;
  q.metric_namespace = "AWS/DynamoDB";
  q.metric_name = "TimeToLiveDeletedItemCount";
  q.dimensions = {{"TableName", "Sessions"}};
  q.start = kMidnight - 86400;
  q.end = kMidnight;
  auto params = get_metric_data_params(q);
  std::map<std::string, std::string> m(params.begin(), params.end());
  EXPECT_EQ(m["StartTime"], "2026-11-29T00:00:00Z");
  EXPECT_EQ(m["EndTime"], "2026-11-30T00:00:00Z");
  EXPECT_EQ(m["MetricDataQueries.member.1.Id"], "m0");
  EXPECT_EQ(m["MetricDataQueries.member.1.MetricStat.Metric.Namespace"], "AWS/DynamoDB");
  EXPECT_EQ(m["MetricDataQueries.member.1.MetricStat.Metric.MetricName"],
            "TimeToLiveDeletedItemCount");
  EXPECT_EQ(m["MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name"], "TableName");
  EXPECT_EQ(m["MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value"], "Sessions");
  EXPECT_EQ(m["MetricDataQueries.member.1.MetricStat.Period"], "3600");
  EXPECT_EQ(m["MetricDataQueries.member.1.MetricStat.Stat"], "Sum");
  EXPECT_EQ(m.count("NextToken"), 0u);
  auto paged = get_metric_data_params(q, "tok");
  std::map<std::string, std::string> pm(paged.begin(), paged.end());
  EXPECT_EQ(pm["NextToken"], "tok");
}

TEST(CloudWatch, ParsesMotoAnswer) {
  MetricDataPage p = parse_get_metric_data(fixture("get_metric_data_moto.xml"));
  ASSERT_EQ(p.points.size(), 5u);
  EXPECT_EQ(p.points[0].timestamp, kMidnight + 4 * 3600);  // 04:00Z
  EXPECT_DOUBLE_EQ(p.points[0].value, 40);
  EXPECT_EQ(p.points[4].timestamp, kMidnight);
  EXPECT_DOUBLE_EQ(p.points[4].value, 0);
  EXPECT_EQ(p.status_code, "Complete");
  EXPECT_TRUE(p.next_token.empty());
}

TEST(CloudWatch, ParsesAwsShapedPageWithNextTokenAndFractionalTimestamps) {
  MetricDataPage p = parse_get_metric_data(fixture("get_metric_data_paged.xml"));
  ASSERT_EQ(p.points.size(), 2u);
  EXPECT_EQ(p.points[0].timestamp, kMidnight + 5 * 3600);
  EXPECT_DOUBLE_EQ(p.points[0].value, 1500);
  EXPECT_DOUBLE_EQ(p.points[1].value, 7);
  EXPECT_EQ(p.status_code, "PartialData");
  EXPECT_EQ(p.next_token, "token-2");
}

TEST(CloudWatch, EmptyResultIsNoDatapoints) {
  const std::string xml =
      "<GetMetricDataResponse><GetMetricDataResult><MetricDataResults><member><Id>m0</Id>"
      "<Timestamps/><Values/><StatusCode>Complete</StatusCode></member></MetricDataResults>"
      "</GetMetricDataResult></GetMetricDataResponse>";
  EXPECT_TRUE(parse_get_metric_data(xml).points.empty());
}

TEST(CloudWatch, MalformedAnswersAreParseErrors) {
  EXPECT_EQ(kind_of("<GetMetricDataResponse><unclosed>"), ErrorKind::kParse);
  EXPECT_EQ(kind_of("<ErrorResponse/>"), ErrorKind::kParse);
  EXPECT_EQ(kind_of("<GetMetricDataResponse><GetMetricDataResult><MetricDataResults/>"
                    "</GetMetricDataResult></GetMetricDataResponse>"),
            ErrorKind::kParse);  // our query unanswered
  EXPECT_EQ(kind_of("<GetMetricDataResponse><GetMetricDataResult><MetricDataResults><member>"
                    "<Id>m0</Id><Timestamps><member>2026-11-30T04:00:00Z</member></Timestamps>"
                    "<Values/></member></MetricDataResults></GetMetricDataResult>"
                    "</GetMetricDataResponse>"),
            ErrorKind::kParse);  // lengths differ
  EXPECT_EQ(kind_of("<GetMetricDataResponse><GetMetricDataResult><MetricDataResults><member>"
                    "<Id>m0</Id><Timestamps><member>yesterday</member></Timestamps>"
                    "<Values><member>1</member></Values></member></MetricDataResults>"
                    "</GetMetricDataResult></GetMetricDataResponse>"),
            ErrorKind::kParse);
  EXPECT_EQ(kind_of("<GetMetricDataResponse><GetMetricDataResult><MetricDataResults><member>"
                    "<Id>m0</Id><Timestamps><member>2026-11-30T04:00:00Z</member></Timestamps>"
                    "<Values><member>1x</member></Values></member></MetricDataResults>"
                    "</GetMetricDataResult></GetMetricDataResponse>"),
            ErrorKind::kParse);
}

}  // namespace
}  // namespace ttla::cloudwatch
