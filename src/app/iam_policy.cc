#include "app/iam_policy.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "aws/aws_client.h"
#include "aws/endpoints.h"
#include "sources/sqs_source.h"

namespace ttla {
namespace {

// What the DynamoDB source sends. Intersected with the AwsClient allow-list so the policy can
// never grant something the client would refuse to send anyway.
const std::vector<std::string> kDynamoTableActions = {"DescribeTable", "DescribeTimeToLive", "Scan"};
const std::vector<std::string> kOrphanTableActions = {"DescribeTable", "BatchGetItem"};
const std::vector<std::string> kS3BucketActions = {
    "s3:GetBucketVersioning", "s3:GetLifecycleConfiguration", "s3:ListBucket",
    "s3:ListBucketMultipartUploads", "s3:ListBucketVersions"};
// ListParts (bytes of the oldest stale uploads) is authorised on the object ARN by
// s3:ListMultipartUploadParts. No object is ever read (no s3:GetObject) and no CloudWatch
// metric either: the sources send neither request.
const std::vector<std::string> kS3ObjectActions = {"s3:ListMultipartUploadParts"};

std::string region_of(const TargetConfig& t) {
  if (!t.region.empty()) return t.region;
  for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') return v;
  }
  return "*";
}

// The partition of a known region; "aws" when the region is "*".
std::string partition(const std::string& region) {
  return region == "*" ? "aws" : aws::partition_of(region).name;
}

std::string table_arn(const std::string& region, const std::string& table) {
  return "arn:" + partition(region) + ":dynamodb:" + region + ":*:table/" + table;
}

// The queue's ARN: account and region from its URL when it names them, else the target's
// `account` / region (or "*").
std::string queue_arn(const TargetConfig& t) {
  std::string region = region_of(t), account = t.queue_account.empty() ? "*" : t.queue_account;
  std::string name = t.queue;
  if (!t.queue_url.empty()) {
    const sqs::QueueRef q = sqs::parse_queue_url(t.queue_url);
    if (t.region.empty() && !q.region.empty()) region = q.region;
    account = q.account;
    name = q.name;
  }
  return "arn:" + partition(region) + ":sqs:" + region + ":" + account + ":" + name;
}

nlohmann::json statement(const std::string& sid, const std::vector<std::string>& actions,
                         const std::set<std::string>& resources) {
  nlohmann::json s = nlohmann::json::object();
  s["Sid"] = sid;
  s["Effect"] = "Allow";
  s["Action"] = actions;
  s["Resource"] = std::vector<std::string>(resources.begin(), resources.end());
  return s;
}

std::vector<std::string> dynamo_actions(const std::vector<std::string>& ops) {
  std::vector<std::string> out;
  for (const auto& op : ops) {
    if (aws::is_allowed_dynamodb_operation(op)) out.push_back("dynamodb:" + op);
  }
  return out;
}

}  // namespace

nlohmann::json iam_policy(const Config& config) {
  std::set<std::string> tables, orphan_tables, latency_tables, buckets, objects, roles, queues;
  std::set<std::string> streams;  // deletion latency from the tables' streams
  std::set<std::string> named_queues;  // sqs `queue:` resolves its URL with GetQueueUrl
  bool any_cloudwatch = false;
  bool list_tables = false;
  bool list_buckets = false;
  bool read_tags = false;  // s3 read_tags: GetObjectTagging for tag-filtered lifecycle rules
  for (const auto& t : config.targets) {
    if ((t.kind == "dynamodb" || t.kind == "s3" || t.kind == "sqs") && !t.role_arn.empty()) {
      roles.insert(t.role_arn);
    }
    if (t.kind == "sqs") {
      // The oldest message's age comes from CloudWatch; off with `cloudwatch: false`.
      any_cloudwatch = any_cloudwatch || t.cloudwatch;
      queues.insert(queue_arn(t));
      if (t.queue_url.empty()) named_queues.insert(queue_arn(t));
      continue;
    }
    if (t.kind == "dynamodb") {
      any_cloudwatch = any_cloudwatch || t.cloudwatch;
      // Deletion latency looks tracked keys up (not when they are stored as hashes only).
      const bool latency_lookups =
          !config.state_dir.empty() && t.latency_track_keys > 0 && !t.redact_keys;
      if (!t.tables) {
        tables.insert(table_arn(region_of(t), t.table));
        if (latency_lookups) latency_tables.insert(table_arn(region_of(t), t.table));
        if (t.latency_stream) streams.insert(table_arn(region_of(t), t.table) + "/stream/*");
        continue;
      }
      // Discovery: IAM wildcards are * and ? only, so an include glob with a [class] widens to
      // every table; excludes cannot narrow a policy (see the notes).
      list_tables = true;
      for (const auto& g : t.tables->include) {
        tables.insert(table_arn(region_of(t), g.find('[') == std::string::npos ? g : "*"));
        if (latency_lookups) {
          latency_tables.insert(table_arn(region_of(t), g.find('[') == std::string::npos ? g : "*"));
        }
        if (t.latency_stream) {
          streams.insert(table_arn(region_of(t), g.find('[') == std::string::npos ? g : "*") + "/stream/*");
        }
      }
    } else if (t.kind == "s3") {
      const std::string s3 = "arn:" + partition(region_of(t)) + ":s3:::";
      std::vector<std::string> names = {t.bucket};
      if (t.buckets) {
        // Discovery, as for tables: a [class] glob widens to every bucket.
        list_buckets = true;
        names.clear();
        for (const auto& g : t.buckets->include) names.push_back(g.find('[') == std::string::npos ? g : "*");
      }
      for (const auto& b : names) {
        buckets.insert(s3 + b);
        objects.insert(s3 + b + "/" + t.prefix + "*");
      }
      read_tags = read_tags || t.read_tags > 0;
      if (t.orphans) orphan_tables.insert(table_arn(region_of(t), t.orphans->dynamodb_table));
    }
  }
  nlohmann::json statements = nlohmann::json::array();
  if (!tables.empty()) {
    statements.push_back(statement("DynamoDbAuditTables", dynamo_actions(kDynamoTableActions), tables));
  }
  if (list_tables) {
    // ListTables has no resource-level permissions.
    statements.push_back(statement("DynamoDbDiscoverTables", dynamo_actions({"ListTables"}), {"*"}));
  }
  if (!latency_tables.empty()) {
    statements.push_back(
        statement("DynamoDbLatencyLookups", dynamo_actions({"BatchGetItem"}), latency_tables));
  }
  if (!streams.empty()) {
    // Exact deletion latency from a stream with old images; off with `latency_stream: false`.
    statements.push_back(statement(
        "DynamoDbReadStreams",
        {"dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"}, streams));
  }
  if (!orphan_tables.empty()) {
    statements.push_back(
        statement("DynamoDbOrphanLookups", dynamo_actions(kOrphanTableActions), orphan_tables));
  }
  if (!buckets.empty()) {
    statements.push_back(statement("S3AuditBuckets", kS3BucketActions, buckets));
    std::vector<std::string> object_actions = kS3ObjectActions;
    if (read_tags) object_actions.push_back("s3:GetObjectTagging");
    statements.push_back(statement("S3AuditObjects", object_actions, objects));
  }
  if (!queues.empty()) {
    statements.push_back(statement("SqsReadQueueDepth", {"sqs:GetQueueAttributes"}, queues));
  }
  if (!named_queues.empty()) {
    statements.push_back(statement("SqsResolveQueueUrls", {"sqs:GetQueueUrl"}, named_queues));
  }
  if (list_buckets) {
    // ListBuckets is authorised by s3:ListAllMyBuckets on every bucket of the account.
    statements.push_back(statement("S3DiscoverBuckets", {"s3:ListAllMyBuckets"}, {"*"}));
  }
  if (any_cloudwatch) {
    // The DynamoDB deletion rate (TimeToLiveDeletedItemCount) and the SQS oldest message age
    // (ApproximateAgeOfOldestMessage); off with `cloudwatch: false`.
    // GetMetricData has no resource-level permissions.
    statements.push_back(statement("CloudWatchReadMetrics", {"cloudwatch:GetMetricData"}, {"*"}));
  }
  if (!roles.empty()) {
    // For the auditing identity (the one that assumes each target's role_arn).
    statements.push_back(statement("AssumeTargetRoles", {"sts:AssumeRole"}, roles));
  }
  nlohmann::json policy = nlohmann::json::object();
  policy["Version"] = "2012-10-17";
  policy["Statement"] = statements;
  return policy;
}

std::vector<std::string> iam_policy_notes(const Config& config) {
  std::vector<std::string> notes;
  bool wildcard_region = false;
  for (const auto& t : config.targets) {
    if (t.kind == "postgres" || t.kind == "filesystem") {
      notes.push_back("target " + t.name + " (" + t.kind + ") needs no IAM permissions");
    } else if (t.kind == "sqs" ? queue_arn(t).find(":sqs:*:") != std::string::npos
                               : region_of(t) == "*") {
      wildcard_region = true;  // (a queue URL names its region)
    }
    if ((t.tables && !t.tables->exclude.empty()) || (t.buckets && !t.buckets->exclude.empty())) {
      notes.push_back("target " + t.name +
                      ": exclude globs cannot narrow an IAM policy; excluded tables or buckets stay readable");
    }
  }
  if (wildcard_region) {
    notes.push_back("region \"*\" used where neither the target nor AWS_REGION names one");
  }
  notes.push_back("account \"*\" used in ARNs: replace it with your account id to narrow further");
  for (const auto& t : config.targets) {
    if (!t.role_arn.empty()) {
      notes.push_back("target " + t.name + " assumes " + t.role_arn +
                      ": statement AssumeTargetRoles belongs to the auditing identity, the others "
                      "to that role");
    }
  }
  return notes;
}

}  // namespace ttla
