// The DynamoDB JSON answers other than Scan pages (DescribeTable, DescribeTimeToLive,
// ListTables) on recorded fixtures in AWS's documented shapes, error bodies and garbage.
#include "aws/dynamodb_json.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

#include "core/error.h"
#include "support/fixtures.h"

namespace ttla::dynamodb {
namespace {

std::string fixture(const std::string& name) { return testing::fixture("dynamodb", name); }

TEST(DynamodbDescribe, TableWithSortKey) {
  TableDescription d = parse_describe_table(fixture("describe_table.json"));
  EXPECT_EQ(d.table_name, "UploadSessions");
  EXPECT_EQ(d.table_status, "ACTIVE");
  EXPECT_EQ(d.hash_key, "pk");
  EXPECT_EQ(d.range_key, "sk");
  ASSERT_TRUE(d.item_count && d.table_size_bytes);
  EXPECT_EQ(*d.item_count, 123456);
  EXPECT_EQ(*d.table_size_bytes, 98765432);
  EXPECT_EQ(d.attribute_types, (std::map<std::string, std::string>{{"pk", "S"}, {"sk", "S"}}));
}

TEST(DynamodbDescribe, HashOnlyTable) {
  TableDescription d = parse_describe_table(fixture("describe_table_hash_only.json"));
  EXPECT_EQ(d.hash_key, "id");
  EXPECT_TRUE(d.range_key.empty());
  EXPECT_EQ(d.table_status, "CREATING");
  EXPECT_EQ(d.attribute_types.at("id"), "N");
}

TEST(DynamodbDescribe, TimeToLive) {
  TtlDescription on = parse_describe_ttl(fixture("describe_ttl_enabled.json"));
  EXPECT_EQ(on.status, "ENABLED");
  EXPECT_EQ(on.attribute, "ttl");
  TtlDescription off = parse_describe_ttl(fixture("describe_ttl_disabled.json"));
  EXPECT_EQ(off.status, "DISABLED");
  EXPECT_TRUE(off.attribute.empty());
}

TEST(DynamodbDescribe, ErrorsAndGarbage) {
  try {
    parse_describe_table(
        R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"})");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kParse);
    EXPECT_NE(std::string(e.what()).find("ResourceNotFoundException: Requested resource not found"),
              std::string::npos);
  }
  EXPECT_THROW(parse_describe_table("{\"Table\":{\"TableName\":\"x\"}}"), Error);
  EXPECT_THROW(parse_describe_table("not json"), Error);
  EXPECT_THROW(parse_describe_table(
                   R"({"Table":{"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],)"
                   R"("AttributeDefinitions":[{"AttributeName":"id"}]}})"),
               Error);
  EXPECT_THROW(parse_describe_ttl("{}"), Error);
  EXPECT_THROW(parse_describe_ttl(fixture("describe_table.json")), Error);
}

TEST(DynamodbListTables, Pages) {
  auto [names, last] =
      parse_list_tables(R"({"TableNames":["a","b"],"LastEvaluatedTableName":"b"})");
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(last, "b");
  auto [names2, last2] = parse_list_tables(R"({"TableNames":[]})");
  EXPECT_TRUE(names2.empty());
  EXPECT_TRUE(last2.empty());
  for (const char* bad : {"{}", "[]", R"({"TableNames":[1]})", "not json",
                          R"({"TableNames":[],"LastEvaluatedTableName":3})"}) {
    try {
      parse_list_tables(bad);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kParse) << bad;
    }
  }
}

TEST(DynamodbListTables, ErrorBodyNamesItsCode) {
  try {
    parse_list_tables(R"({"__type":"com.amazon.coral.service#AccessDeniedException","Message":"no"})");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kParse);
    EXPECT_NE(std::string(e.what()).find("ListTables: DynamoDB error body: AccessDeniedException: no"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace ttla::dynamodb
