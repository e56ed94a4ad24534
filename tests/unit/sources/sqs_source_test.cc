// The sqs source's oldest-age query (queue URLs and the JSON answers: aws/sqs_json_test.cc).
#include "sources/sqs_source.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace ttla {
namespace {

TEST(SqsOldestAge, QueryCoversTheHourUpToTheMinuteOfAsOfAndTakesTheNewestPoint) {
  const int64_t as_of = 1'796'019'230;  // 06:13:50
  const auto q = sqs::oldest_age_query("dlq", as_of);
  EXPECT_EQ(q.metric_namespace, "AWS/SQS");
  EXPECT_EQ(q.metric_name, "ApproximateAgeOfOldestMessage");
  EXPECT_EQ(q.stat, "Maximum");
  EXPECT_EQ(q.end, 1'796'019'240);  // the end of the minute holding as_of (exclusive)
  EXPECT_EQ(q.end - q.start, 3660);
  ASSERT_EQ(q.dimensions.size(), 1u);
  EXPECT_EQ(q.dimensions[0], (std::pair<std::string, std::string>{"QueueName", "dlq"}));

  std::vector<cloudwatch::Datapoint> points = {
      {as_of - 600, 900}, {as_of - 60, 120}, {as_of + 5, 5000}, {as_of - 3000, 10}};
  const auto p = sqs::latest_point(points, as_of);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->timestamp, as_of - 60);
  EXPECT_EQ(p->value, 120);
  EXPECT_FALSE(sqs::latest_point({{as_of + 1, 1}}, as_of));
}

}  // namespace
}  // namespace ttla
