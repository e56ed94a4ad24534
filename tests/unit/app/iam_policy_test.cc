// iam-policy: read-only actions only, scoped to the configured tables and buckets.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "app/iam_policy.h"
#include "aws/aws_client.h"
#include "sources/kinds.h"

namespace ttla {
namespace {

Config parse(const std::string& yaml) {
  auto r = parse_config(yaml);
  EXPECT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].str());
  return r.config.value_or(Config{});
}

const std::string kYaml =
    "targets:\n"
    "  - {name: sessions, kind: dynamodb, table: UploadSessions, region: us-east-1}\n"
    "  - {name: other, kind: dynamodb, table: Other}\n"
    "  - name: uploads\n"
    "    kind: s3\n"
    "    bucket: video-uploads\n"
    "    prefix: uploads/\n"
    "    region: eu-west-1\n"
    "    orphans: {key_regex: \"^uploads/([^/]+)/\", dynamodb_table: UploadSessions, key_attribute: id}\n"
    "  - {name: mocs, kind: postgres, dsn: x, query: y}\n";

std::set<std::string> all_actions(const nlohmann::json& policy) {
  std::set<std::string> out;
  for (const auto& s : policy["Statement"]) {
    for (const auto& a : s["Action"]) out.insert(a.get<std::string>());
  }
  return out;
}

const nlohmann::json* statement(const nlohmann::json& policy, const std::string& sid) {
  for (const auto& s : policy["Statement"]) {
    if (s["Sid"] == sid) return &s;
  }
  return nullptr;
}

TEST(IamPolicy, NoWriteActionEver) {
  unsetenv("AWS_REGION");
  unsetenv("AWS_DEFAULT_REGION");
  const auto policy = iam_policy(parse(kYaml));
  const auto actions = all_actions(policy);
  ASSERT_FALSE(actions.empty());
  for (const auto& a : actions) {
    for (const char* verb : {"Put", "Delete", "Update", "Create", "Write", "Restore", "Abort", "Tag"}) {
      EXPECT_EQ(a.find(verb), std::string::npos) << a;
    }
    if (a.rfind("dynamodb:", 0) == 0) {
      // Never grant what the read-only client would refuse to send.
      EXPECT_TRUE(aws::is_allowed_dynamodb_operation(a.substr(9)) ||
                  aws::is_allowed_dynamodb_streams_operation(a.substr(9)))
          << a;
    }
  }
  for (const auto& s : policy["Statement"]) EXPECT_EQ(s["Effect"], "Allow");
  EXPECT_EQ(policy["Version"], "2012-10-17");
}

TEST(IamPolicy, ScopedResources) {
  unsetenv("AWS_REGION");
  setenv("AWS_DEFAULT_REGION", "ap-south-1", 1);
  const auto policy = iam_policy(parse(kYaml));
  unsetenv("AWS_DEFAULT_REGION");

  const auto* ddb = statement(policy, "DynamoDbAuditTables");
  ASSERT_NE(ddb, nullptr);
  EXPECT_EQ((*ddb)["Action"], nlohmann::json({"dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive",
                                              "dynamodb:Scan"}));
  EXPECT_EQ((*ddb)["Resource"],
            nlohmann::json({"arn:aws:dynamodb:ap-south-1:*:table/Other",
                            "arn:aws:dynamodb:us-east-1:*:table/UploadSessions"}));

  const auto* orphans = statement(policy, "DynamoDbOrphanLookups");
  ASSERT_NE(orphans, nullptr);
  EXPECT_TRUE(all_actions(policy).count("dynamodb:BatchGetItem"));
  EXPECT_EQ((*orphans)["Resource"],
            nlohmann::json({"arn:aws:dynamodb:eu-west-1:*:table/UploadSessions"}));

  const auto* bucket = statement(policy, "S3AuditBuckets");
  ASSERT_NE(bucket, nullptr);
  EXPECT_EQ((*bucket)["Resource"], nlohmann::json({"arn:aws:s3:::video-uploads"}));
  std::set<std::string> bucket_actions((*bucket)["Action"].begin(), (*bucket)["Action"].end());
  EXPECT_EQ(bucket_actions, (std::set<std::string>{"s3:ListBucket", "s3:ListBucketVersions",
                                                   "s3:ListBucketMultipartUploads",
                                                   "s3:GetBucketVersioning",
                                                   "s3:GetLifecycleConfiguration"}));
  const auto* objects = statement(policy, "S3AuditObjects");
  ASSERT_NE(objects, nullptr);
  EXPECT_EQ((*objects)["Resource"], nlohmann::json({"arn:aws:s3:::video-uploads/uploads/*"}));
  // Object contents are never read. CloudWatch is read only for the DynamoDB deletion rate
  // (on by default for DynamoDB targets; CloudWatchOnlyWhileADynamoTargetReadsTheDeletionRate covers `cloudwatch: false`).
  EXPECT_EQ((*objects)["Action"], nlohmann::json({"s3:ListMultipartUploadParts"}));
  EXPECT_FALSE(all_actions(policy).count("s3:GetObject"));
  const auto* cw = statement(policy, "CloudWatchReadMetrics");
  ASSERT_NE(cw, nullptr);
  EXPECT_EQ((*cw)["Action"], nlohmann::json({"cloudwatch:GetMetricData"}));
  EXPECT_EQ(statement(policy, "AssumeTargetRoles"), nullptr);
}

TEST(IamPolicy, PartitionsInArns) {
  unsetenv("AWS_REGION");
  unsetenv("AWS_DEFAULT_REGION");
  const Config c = parse(
      "targets:\n"
      "  - {name: a, kind: dynamodb, table: T, region: cn-north-1}\n"
      "  - {name: b, kind: dynamodb, table: G, region: us-gov-west-1}\n"
      "  - {name: c, kind: s3, bucket: bk, region: cn-northwest-1}\n");
  const auto policy = iam_policy(c);
  EXPECT_EQ((*statement(policy, "DynamoDbAuditTables"))["Resource"],
            nlohmann::json({"arn:aws-cn:dynamodb:cn-north-1:*:table/T",
                            "arn:aws-us-gov:dynamodb:us-gov-west-1:*:table/G"}));
  EXPECT_EQ((*statement(policy, "S3AuditBuckets"))["Resource"], nlohmann::json({"arn:aws-cn:s3:::bk"}));
  EXPECT_EQ((*statement(policy, "S3AuditObjects"))["Resource"], nlohmann::json({"arn:aws-cn:s3:::bk/*"}));
}

TEST(IamPolicy, TargetRolesNeedAssumeRole) {
  const Config c = parse(
      "defaults: {role_arn: \"arn:aws:iam::111111111111:role/Reader\", external_id: e}\n"
      "targets:\n"
      "  - {name: a, kind: dynamodb, table: T, region: eu-west-1}\n"
      "  - {name: b, kind: s3, bucket: bk, region: eu-west-1, role_arn: \"arn:aws:iam::222222222222:role/R\"}\n");
  EXPECT_EQ(c.targets.at(0).role_arn, "arn:aws:iam::111111111111:role/Reader");
  EXPECT_EQ(c.targets.at(0).external_id, "e");
  EXPECT_EQ(c.targets.at(1).role_arn, "arn:aws:iam::222222222222:role/R");
  const auto policy = iam_policy(c);
  const auto* s = statement(policy, "AssumeTargetRoles");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ((*s)["Action"], nlohmann::json({"sts:AssumeRole"}));
  EXPECT_EQ((*s)["Resource"], nlohmann::json({"arn:aws:iam::111111111111:role/Reader",
                                              "arn:aws:iam::222222222222:role/R"}));
}

TEST(IamPolicy, RoleArnMustBeARoleArn) {
  auto r = parse_config("targets: [{name: a, kind: dynamodb, table: T, role_arn: Reader}]\n");
  ASSERT_FALSE(r.config);
  ASSERT_FALSE(r.errors.empty());
  EXPECT_EQ(r.errors[0].path, "targets[0].role_arn");
}

TEST(IamPolicy, WildcardRegionWhenUnknown) {
  unsetenv("AWS_REGION");
  unsetenv("AWS_DEFAULT_REGION");
  const Config c = parse("targets: [{name: a, kind: dynamodb, table: T}]\n");
  const auto policy = iam_policy(c);
  EXPECT_EQ((*statement(policy, "DynamoDbAuditTables"))["Resource"],
            nlohmann::json({"arn:aws:dynamodb:*:*:table/T"}));
  bool noted = false;
  for (const auto& n : iam_policy_notes(c)) noted |= n.find("region \"*\"") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(IamPolicy, NonAwsTargetsNeedNothing) {
  const Config c = parse(
      "targets:\n  - {name: m, kind: postgres, dsn: x, query: y}\n"
      "  - {name: f, kind: filesystem, path: /tmp, retention: 1d}\n");
  const auto policy = iam_policy(c);
  EXPECT_TRUE(policy["Statement"].empty());
  EXPECT_GE(iam_policy_notes(c).size(), 2u);
}

TEST(IamPolicy, ObjectTaggingOnlyWhenReadTagsIsSet) {
  const std::string base =
      "targets:\n  - {name: u, kind: s3, bucket: b, prefix: p/, region: us-east-1";
  EXPECT_FALSE(all_actions(iam_policy(parse(base + "}\n"))).count("s3:GetObjectTagging"));
  const auto policy = iam_policy(parse(base + ", read_tags: 500}\n"));
  const auto* objects = statement(policy, "S3AuditObjects");
  ASSERT_NE(objects, nullptr);
  EXPECT_NE(std::find((*objects)["Action"].begin(), (*objects)["Action"].end(),
                      "s3:GetObjectTagging"),
            (*objects)["Action"].end());
  EXPECT_EQ((*objects)["Resource"], nlohmann::json({"arn:aws:s3:::b/p/*"}));
}

}  // namespace
}  // namespace ttla

namespace ttla {
namespace {

TEST(IamPolicy, CloudWatchOnlyWhileADynamoTargetReadsTheDeletionRate) {
  auto has_cw = [](const std::string& yaml) {
    auto r = parse_config(yaml);
    EXPECT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].str());
    bool found = false;
    const nlohmann::json policy = iam_policy(r.config.value_or(Config{}));
    for (const auto& s : policy["Statement"]) {
      for (const auto& a : s["Action"]) found |= a == "cloudwatch:GetMetricData";
    }
    return found;
  };
  EXPECT_TRUE(has_cw("targets: [{name: a, kind: dynamodb, table: T}]\n"));
  EXPECT_FALSE(has_cw("targets: [{name: a, kind: dynamodb, table: T, cloudwatch: false}]\n"));
  EXPECT_TRUE(has_cw("targets: [{name: a, kind: dynamodb, table: T, cloudwatch: false},\n"
                     "          {name: b, kind: dynamodb, table: U}]\n"));
  EXPECT_FALSE(has_cw("targets: [{name: u, kind: s3, bucket: b}]\n"));
}

}  // namespace
}  // namespace ttla

namespace ttla {
namespace {

TEST(IamPolicy, DiscoveryListsTablesAndScopesToTheIncludeGlobs) {
  auto r = parse_config(
      "targets: [{name: fleet, kind: dynamodb, region: eu-west-1,\n"
      "           tables: {include: [\"prod-*\", \"[ab]x\"], exclude: [\"*-tmp\"]}}]\n");
  ASSERT_TRUE(r.config) << r.errors[0].str();
  const nlohmann::json policy = iam_policy(*r.config);
  const auto* list = statement(policy, "DynamoDbDiscoverTables");
  ASSERT_NE(list, nullptr);
  EXPECT_EQ((*list)["Action"], nlohmann::json({"dynamodb:ListTables"}));
  EXPECT_EQ((*list)["Resource"], nlohmann::json({"*"}));
  const auto* audit = statement(policy, "DynamoDbAuditTables");
  ASSERT_NE(audit, nullptr);
  EXPECT_EQ((*audit)["Resource"], nlohmann::json({"arn:aws:dynamodb:eu-west-1:*:table/*",
                                                   "arn:aws:dynamodb:eu-west-1:*:table/prod-*"}));
  bool noted = false;
  for (const auto& n : iam_policy_notes(*r.config)) noted |= n.find("exclude globs") != std::string::npos;
  EXPECT_TRUE(noted);
  // A plain table: no ListTables.
  auto plain = parse_config("targets: [{name: a, kind: dynamodb, table: T}]\n");
  EXPECT_EQ(statement(iam_policy(*plain.config), "DynamoDbDiscoverTables"), nullptr);
}

// Deletion latency looks tracked keys up with BatchGetItem: granted only where it is used (a
// state_dir, tracking on, keys not redacted), on those tables only.
TEST(IamPolicy, LatencyLookupsOnlyWhereTracked) {
  const std::string targets =
      "targets:\n"
      "  - {name: a, kind: dynamodb, table: A, region: us-east-1}\n"
      "  - {name: b, kind: dynamodb, table: B, region: us-east-1, redact_keys: true}\n"
      "  - {name: c, kind: dynamodb, table: C, region: us-east-1, latency_track_keys: 0}\n";
  EXPECT_EQ(statement(iam_policy(parse(targets)), "DynamoDbLatencyLookups"), nullptr);
  const auto policy = iam_policy(parse("state_dir: /var/lib/ttl-auditor\n" + targets));
  const auto* s = statement(policy, "DynamoDbLatencyLookups");
  ASSERT_NE(s, nullptr) << policy.dump();
  EXPECT_EQ((*s)["Action"], nlohmann::json::array({"dynamodb:BatchGetItem"}));
  EXPECT_EQ((*s)["Resource"], nlohmann::json::array({"arn:aws:dynamodb:us-east-1:*:table/A"}));
  // Scan and Describe* stay in their own statement, without BatchGetItem.
  for (const auto& a : (*statement(policy, "DynamoDbAuditTables"))["Action"]) {
    EXPECT_NE(a, "dynamodb:BatchGetItem");
  }
}

// Exact latency from a table's stream: DescribeStream/GetShardIterator/GetRecords on the tables'
// streams, unless `latency_stream: false`; discovery scopes them to the include globs.
TEST(IamPolicy, StreamReadsOnlyWhileLatencyStreamIsOn) {
  const auto policy = iam_policy(parse(
      "targets:\n"
      "  - {name: a, kind: dynamodb, table: A, region: us-east-1}\n"
      "  - {name: b, kind: dynamodb, table: B, region: us-east-1, latency_stream: false}\n"
      "  - {name: d, kind: dynamodb, region: eu-west-1, tables: {include: [\"s-*\"]}}\n"));
  const auto* s = statement(policy, "DynamoDbReadStreams");
  ASSERT_NE(s, nullptr) << policy.dump();
  EXPECT_EQ((*s)["Action"], nlohmann::json::array({"dynamodb:DescribeStream", "dynamodb:GetShardIterator",
                                                   "dynamodb:GetRecords"}));
  EXPECT_EQ((*s)["Resource"], nlohmann::json::array({"arn:aws:dynamodb:eu-west-1:*:table/s-*/stream/*",
                                                     "arn:aws:dynamodb:us-east-1:*:table/A/stream/*"}));
  const auto off = iam_policy(parse(
      "targets: [{name: b, kind: dynamodb, table: B, region: us-east-1, latency_stream: false}]\n"));
  EXPECT_EQ(statement(off, "DynamoDbReadStreams"), nullptr);
  EXPECT_FALSE(all_actions(off).count("dynamodb:GetRecords"));
}

// Bucket discovery: ListAllMyBuckets (no resource-level permission) and the bucket actions on the
// include globs; a [class] glob widens to every bucket.
TEST(IamPolicy, BucketDiscoveryListsAllMyBuckets) {
  const auto policy = iam_policy(parse(
      "targets:\n  - {name: l, kind: s3, region: us-east-1, buckets: {include: [\"logs-*\", \"x[0-9]\"]}}\n"));
  const auto* list = statement(policy, "S3DiscoverBuckets");
  ASSERT_NE(list, nullptr) << policy.dump();
  EXPECT_EQ((*list)["Action"], nlohmann::json::array({"s3:ListAllMyBuckets"}));
  EXPECT_EQ((*list)["Resource"], nlohmann::json::array({"*"}));
  EXPECT_EQ((*statement(policy, "S3AuditBuckets"))["Resource"],
            nlohmann::json::array({"arn:aws:s3:::*", "arn:aws:s3:::logs-*"}));
  EXPECT_EQ(statement(iam_policy(parse("targets:\n  - {name: b, kind: s3, bucket: one}\n")),
                      "S3DiscoverBuckets"),
            nullptr);
}

}  // namespace
}  // namespace ttla

namespace ttla {
namespace {

TEST(IamPolicy, SqsQueuesGetAttributeReadsAndGetQueueUrlOnlyWhenNamed) {
  unsetenv("AWS_REGION");
  unsetenv("AWS_DEFAULT_REGION");
  auto r = parse_config(
      "targets:\n"
      "  - {name: dlq, kind: sqs, queue_url: \"https://sqs.eu-west-2.amazonaws.com/123456789012/cleanup-dlq\"}\n"
      "  - {name: named, kind: sqs, queue: uploads-dlq, account: \"210987654321\", region: us-east-2,\n"
      "     cloudwatch: false}\n"
      "  - {name: img, kind: filesystem, path: /x, retention: 1d,\n"
      "     orphans: {dsn: x, query: \"SELECT p FROM t\"}}\n");
  ASSERT_TRUE(r.config) << r.errors[0].str();
  const nlohmann::json policy = iam_policy(*r.config);
  const auto* read = statement(policy, "SqsReadQueueDepth");
  ASSERT_NE(read, nullptr) << policy.dump(1);
  EXPECT_EQ((*read)["Action"], nlohmann::json({"sqs:GetQueueAttributes"}));
  EXPECT_EQ((*read)["Resource"],
            nlohmann::json({"arn:aws:sqs:eu-west-2:123456789012:cleanup-dlq",
                            "arn:aws:sqs:us-east-2:210987654321:uploads-dlq"}));
  const auto* resolve = statement(policy, "SqsResolveQueueUrls");
  ASSERT_NE(resolve, nullptr);
  EXPECT_EQ((*resolve)["Action"], nlohmann::json({"sqs:GetQueueUrl"}));
  EXPECT_EQ((*resolve)["Resource"],
            nlohmann::json({"arn:aws:sqs:us-east-2:210987654321:uploads-dlq"}));
  // The first queue keeps CloudWatch on (oldest message age).
  const auto* cw = statement(policy, "CloudWatchReadMetrics");
  ASSERT_NE(cw, nullptr);
  EXPECT_EQ((*cw)["Action"], nlohmann::json({"cloudwatch:GetMetricData"}));
  for (const auto& a : all_actions(policy)) {
    if (a.rfind("sqs:", 0) == 0) {
      EXPECT_TRUE(aws::is_allowed_sqs_operation(a.substr(4))) << a;
    }
  }

  // A queue by URL with CloudWatch off: no GetQueueUrl, no CloudWatch.
  auto off = parse_config(
      "targets: [{name: dlq, kind: sqs, cloudwatch: false,\n"
      "           queue_url: \"https://sqs.eu-west-2.amazonaws.com/123456789012/q\"}]\n");
  ASSERT_TRUE(off.config) << off.errors[0].str();
  const nlohmann::json p2 = iam_policy(*off.config);
  EXPECT_EQ(statement(p2, "SqsResolveQueueUrls"), nullptr);
  EXPECT_EQ(statement(p2, "CloudWatchReadMetrics"), nullptr);
  EXPECT_NE(statement(p2, "SqsReadQueueDepth"), nullptr);
}

}  // namespace
}  // namespace ttla
