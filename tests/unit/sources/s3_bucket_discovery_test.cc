// S3 bucket discovery without I/O: the ListBuckets answer (shape of AWS's API reference example,
// with the ContinuationToken of a paged answer) and the per-bucket targets.
#include <gtest/gtest.h>

#include "sources/s3_kind.h"
#include "sources/dynamodb_kind.h"
#include "config/config.h"
#include "sources/kinds.h"
#include "core/error.h"
#include "sources/dynamodb_discovery.h"
#include "aws/s3_xml.h"

namespace ttla {
namespace {

TEST(S3Discovery, ParsesListBuckets) {
  const auto page = s3::parse_list_buckets(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Buckets>
    <Bucket><CreationDate>2019-12-11T23:32:47+00:00</CreationDate><Name>DOC-EXAMPLE-BUCKET</Name></Bucket>
    <Bucket><CreationDate>2019-11-10T23:32:13+00:00</CreationDate><Name>DOC-EXAMPLE-BUCKET2</Name></Bucket>
  </Buckets>
  <Owner><DisplayName>Account+Name</DisplayName><ID>AIDACKCEVSQ6C2EXAMPLE</ID></Owner>
  <ContinuationToken>eyJNYXJrZXIiOiBudWxsfQ==</ContinuationToken>
</ListAllMyBucketsResult>)");
  EXPECT_EQ(page.names, (std::vector<std::string>{"DOC-EXAMPLE-BUCKET", "DOC-EXAMPLE-BUCKET2"}));
  EXPECT_EQ(page.continuation_token, "eyJNYXJrZXIiOiBudWxsfQ==");
  // No buckets, no token: the last page.
  const auto empty = s3::parse_list_buckets("<ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>");
  EXPECT_TRUE(empty.names.empty());
  EXPECT_TRUE(empty.continuation_token.empty());
  EXPECT_THROW(s3::parse_list_buckets("<Error><Code>AccessDenied</Code></Error>"), Error);
  EXPECT_THROW(s3::parse_list_buckets("<ListAllMyBucketsResult><Buckets><Bucket/></Buckets></ListAllMyBucketsResult>"), Error);
}

TEST(S3Discovery, DiscoveredBucketTarget) {
  TargetConfig parent;
  parent.name = "logs";
  parent.kind = "s3";
  s3_config(parent).prefix = "app/";
  s3_config(parent).buckets = TableSelector{{"prod-*"}, {"*-archive"}};
  EXPECT_TRUE(is_discovery_target(parent));
  EXPECT_TRUE(name_selected(*s3_config(parent).buckets, "prod-logs"));
  EXPECT_FALSE(name_selected(*s3_config(parent).buckets, "prod-archive"));
  EXPECT_FALSE(name_selected(*s3_config(parent).buckets, "dev-logs"));
  const TargetConfig t = discovered_target(parent, "prod-logs");
  EXPECT_EQ(t.name, "logs/prod-logs");
  EXPECT_EQ(s3_config(t).bucket, "prod-logs");
  EXPECT_EQ(s3_config(t).prefix, "app/");
  EXPECT_FALSE(s3_config(t).buckets.has_value());
  EXPECT_FALSE(is_discovery_target(t));
  // DynamoDB's discovery defaults (sample, read budget) are not for buckets: the target holds
  // s3 settings only.
  EXPECT_EQ(t.kind_config_if<DynamodbTargetConfig>(), nullptr);
}

TEST(S3Discovery, ConfigAcceptsBucketsInsteadOfBucket) {
  auto ok = parse_config("targets:\n  - {name: l, kind: s3, buckets: all}\n"
                         "  - {name: m, kind: s3, buckets: {include: [\"a-*\"], exclude: [\"*-b\"]}}\n");
  ASSERT_TRUE(ok.config) << (ok.errors.empty() ? "" : ok.errors[0].str());
  EXPECT_EQ(s3_config(ok.config->targets[0]).buckets->include, std::vector<std::string>{"*"});
  EXPECT_EQ(s3_config(ok.config->targets[1]).buckets->exclude, std::vector<std::string>{"*-b"});
  auto both = parse_config("targets:\n  - {name: l, kind: s3, bucket: x, buckets: all}\n");
  ASSERT_FALSE(both.config);
  EXPECT_NE(both.errors[0].str().find("mutually exclusive"), std::string::npos);
  auto bad = parse_config("targets:\n  - {name: l, kind: s3, buckets: some}\n");
  ASSERT_FALSE(bad.config);
  EXPECT_NE(bad.errors[0].str().find("expected \"all\""), std::string::npos);
}

}  // namespace
}  // namespace ttla
