// Scan request bodies: aliases everywhere, filters merged without clashes, keys sent back as-is.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sources/dynamodb_request.h"

namespace ttla::dynamodb {
namespace {

ItemSchema schema() {
  ItemSchema s;
  s.ttl_attribute = "ttl";
  s.key_attributes = {"pk", "sk"};
  GroupBy g;
  g.format = "{user_id}#{pk}";
  s.group_by = g;
  return s;
}

TEST(DynamodbRequest, ProjectionAliasesEveryAttributeOnce) {
  ScanPlan plan = make_scan_plan("T", schema(), std::nullopt, 1763800000, false);
  EXPECT_EQ(plan.projection, "#ttla_k0, #ttla_k1, #ttla_t, #ttla_g0");
  EXPECT_EQ(plan.names["#ttla_k0"], "pk");
  EXPECT_EQ(plan.names["#ttla_k1"], "sk");
  EXPECT_EQ(plan.names["#ttla_t"], "ttl");
  EXPECT_EQ(plan.names["#ttla_g0"], "user_id");
  EXPECT_EQ(plan.names.size(), 4u);  // pk in the group format reuses #ttla_k0
  EXPECT_TRUE(plan.filter_expression.empty());
  EXPECT_FALSE(plan.server_drops_not_yet_expired);

  nlohmann::json body = nlohmann::json::parse(scan_request_body(plan, 3, 16, ""));
  EXPECT_EQ(body["TableName"], "T");
  EXPECT_EQ(body["Segment"], 3);
  EXPECT_EQ(body["TotalSegments"], 16);
  EXPECT_EQ(body["ReturnConsumedCapacity"], "TOTAL");
  EXPECT_EQ(body["ConsistentRead"], false);
  EXPECT_FALSE(body.contains("ExclusiveStartKey"));
  EXPECT_FALSE(body.contains("FilterExpression"));
  EXPECT_FALSE(body.contains("ExpressionAttributeValues"));  // DynamoDB rejects an empty map
}

TEST(DynamodbRequest, ServerSideDropOfNotYetExpired) {
  ScanPlan plan = make_scan_plan("T", schema(), std::nullopt, 1763800000, true);
  EXPECT_TRUE(plan.server_drops_not_yet_expired);
  EXPECT_EQ(plan.filter_expression, "NOT (#ttla_t > :ttla_asof AND #ttla_t < :ttla_ms)");
  EXPECT_EQ(plan.values[":ttla_asof"]["N"], "1763800000");
  EXPECT_EQ(plan.values[":ttla_ms"]["N"], "100000000000");
}

TEST(DynamodbRequest, UserFilterMergedAndDisablesTheDrop) {
  DynamoFilter f;
  f.expression = "#s <> :u AND #ttla_t = :ttla_asof";
  f.names = {{"#s", "status"}, {"#ttla_t", "owner"}};
  f.values = {{":u", {{"S", "uploaded"}}}, {":ttla_asof", {{"S", "x"}}}};
  ScanPlan plan = make_scan_plan("T", schema(), f, 1763800000, true);
  EXPECT_FALSE(plan.server_drops_not_yet_expired);  // ScannedCount - Count would mix classes
  EXPECT_EQ(plan.filter_expression, f.expression);
  EXPECT_EQ(plan.names["#s"], "status");
  EXPECT_EQ(plan.names["#ttla_t"], "owner");  // the user's alias is untouched
  EXPECT_EQ(plan.names["#ttla_t_1"], "ttl");  // ours moved aside
  EXPECT_EQ(plan.projection, "#ttla_k0, #ttla_k1, #ttla_t_1, #ttla_g0");
  EXPECT_EQ(plan.values[":u"]["S"], "uploaded");
  nlohmann::json body = nlohmann::json::parse(scan_request_body(plan, 0, 1, ""));
  EXPECT_EQ(body["FilterExpression"], f.expression);
  EXPECT_EQ(body["ExpressionAttributeValues"][":u"]["S"], "uploaded");
}

TEST(DynamodbRequest, ExclusiveStartKeyIsSentBackVerbatim) {
  ScanPlan plan = make_scan_plan("T", schema(), std::nullopt, 1, false);
  const std::string key = R"({"pk":{"S":"a\"b\u00e9"},"sk":{"N":"1.50"}})";
  std::string text = scan_request_body(plan, 1, 4, key);
  EXPECT_NE(text.find(std::string("\"ExclusiveStartKey\":") + key), std::string::npos) << text;
  nlohmann::json body = nlohmann::json::parse(text);
  EXPECT_EQ(body["ExclusiveStartKey"]["sk"]["N"], "1.50");
  EXPECT_EQ(body["Segment"], 1);
}

TEST(DynamodbRequest, DescribeBodies) {
  EXPECT_EQ(describe_table_body("A\"b"), R"({"TableName":"A\"b"})");
  EXPECT_EQ(describe_ttl_body("T"), R"({"TableName":"T"})");
}

}  // namespace
}  // namespace ttla::dynamodb
