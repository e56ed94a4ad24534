#pragma once
// YAML config -> validated Config. Validation collects every problem, each naming its path
// (`targets[2].retention: expected a duration like 7d, got "seven"`), and reports them at once.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ttla {

// Anomaly thresholds (`anomalies:` globally and per target). Defaults are documented in the README.
struct Thresholds {
  double expired_backlog_warning = 100;        // expired items
  double expired_backlog_critical = 0;         // 0 = no critical level
  int64_t oldest_overdue_warning = 48 * 3600;  // seconds
  int64_t oldest_overdue_critical = 7 * 86400;
  double ttl_hygiene_warning = 1;              // any hygiene problem
  double stale_multipart_warning = 1;
  // backlog_growth: fires when the backlog grew in each of the last `growth_runs` runs and the
  // latest value is above EWMA + growth_sigma * deviation of the history.
  int growth_runs = 3;
  double growth_sigma = 3.0;
  double growth_min_items = 10;  // ignore growth below this many items
  int history_runs = 48;         // how many past runs the state directory keeps
  double dlq_depth_warning = 50;   // sqs: visible messages above this (0 = off)
  double dlq_depth_critical = 0;   // 0 = no critical level
  double orphan_files_warning = 1; // filesystem orphans: at least this many (0 = off)
};

struct DynamoFilter {
  std::string expression;
  std::map<std::string, std::string> names;
  nlohmann::json values = nlohmann::json::object();  // DynamoDB AttributeValue JSON
};

struct GroupBy {
  std::string attribute;            // dynamodb: attribute to group by
  std::string split;                // optional separator: group = attribute.split(split)[part]
  int part = 0;
  std::string format;               // optional "{user_id}#{session_id}" style template
  std::string delimiter;            // s3: key delimiter ("/")
  int depth = 1;                    // s3: prefix depth
};

struct Orphans {                    // s3: objects whose captured id has no item in a table
  std::string key_regex;
  std::string dynamodb_table;
  std::string key_attribute;
  int64_t min_age = 0;              // also filesystem
  std::string endpoint_url;         // optional: the table's endpoint when not the target's (tests)
  // filesystem: files (older than min_age) that `query` on `dsn` does not return. The query's
  // first column is a path relative to the target's `path` (or an absolute path under it).
  std::string dsn;
  std::string query;
  int64_t statement_timeout = 300;  // seconds
};

// dynamodb `tables:` / s3 `buckets:` — discovery with ListTables / ListBuckets instead of one
// `table:` / `bucket:`. `all` is include ["*"]; globs are fnmatch patterns on the name.
struct TableSelector {
  std::vector<std::string> include{"*"};
  std::vector<std::string> exclude;
};

inline constexpr int64_t kDefaultRequestTimeout = 30;  // seconds
inline constexpr int64_t kDefaultConnectTimeout = 3;

struct TargetConfig {
  std::string name;
  std::string kind;  // dynamodb | s3 | postgres | filesystem | sqs

  // AWS (dynamodb, s3, sqs)
  std::string region;
  std::string endpoint_url;
  std::string profile;
  std::string role_arn;     // assumed for this target (cross-account audits)
  std::string external_id;  // with role_arn
  std::optional<bool> path_style;  // s3: default true with endpoint_url, false on AWS

  // dynamodb
  std::string table;  // also postgres
  std::string ttl_attribute;
  std::optional<DynamoFilter> filter;
  std::optional<GroupBy> group_by;  // also s3
  std::optional<double> sample;     // also postgres
  int segments = 0;                 // 0 = auto
  double max_read_units_per_second = 0;  // 0 = unlimited
  double max_read_units = 0;             // 0 = unlimited
  bool redact_keys = false;
  // dynamodb: deletion rate from CloudWatch TimeToLiveDeletedItemCount over deletion_window;
  // sqs: the oldest message's age (ApproximateAgeOfOldestMessage).
  bool cloudwatch = true;
  std::string cloudwatch_endpoint_url;  // else endpoint_url (moto serves both), else AWS
  int64_t deletion_window = 86400;      // seconds, whole hours
  std::optional<TableSelector> tables;  // instead of `table`: each match is target <name>/<table>
  bool discovered = false;              // set on the per-table targets `tables:` expands into
  int top_k = 10;                   // oldest/sample/top group list sizes
  // dynamodb, s3: expired items followed between runs for deletion latency (needs state_dir);
  // 0 turns it off.
  int latency_track_keys = 1000;
  // dynamodb: exact deletion latency from the table's stream when its view has old images
  // (DescribeStream/GetShardIterator/GetRecords over the last 24 h); false never reads it.
  bool latency_stream = true;

  // s3
  std::string bucket;
  std::string prefix;
  std::optional<TableSelector> buckets;  // instead of `bucket`: each match is target <name>/<bucket>
  std::optional<int64_t> multipart_max_age;
  std::optional<int64_t> noncurrent_retention;
  std::optional<Orphans> orphans;
  uint64_t max_requests = 0;  // 0 = unlimited
  // GetObjectTagging budget per run for objects a tag-filtered lifecycle rule may match;
  // 0 = tags are not read (such rules are reported as not evaluated).
  uint64_t read_tags = 0;

  // sqs: `queue_url`, or `queue` (a name, resolved with GetQueueUrl) and optionally `account`
  // (the owner's account id when the queue is another account's).
  std::string queue_url;
  std::string queue;
  std::string queue_account;

  // postgres
  std::string dsn;
  std::string query;  // instead of table: returns (key, timestamp)
  std::string timestamp_column;
  std::string key_column;
  // Empty: a date/time column. seconds | milliseconds: an integer (or numeric) epoch column.
  std::string timestamp_unit;
  std::string where;
  int64_t statement_timeout = 300;  // seconds

  // postgres, filesystem, s3
  std::optional<int64_t> retention;  // seconds

  // filesystem
  std::string path;
  std::string pattern;

  // Time limits (seconds). request_timeout: one HTTP request, whole (AWS kinds); connect_timeout:
  // establishing a connection (AWS kinds, postgres); max_duration: the whole target, after which
  // it stops, keeps what it read and is partial (dynamodb, s3, filesystem). 0 = no limit.
  // Unset: kDefaultRequestTimeout / kDefaultConnectTimeout.
  std::optional<int64_t> request_timeout;
  std::optional<int64_t> connect_timeout;
  int64_t max_duration = 0;

  Thresholds thresholds;  // global anomalies merged with the target's own
};

struct Config {
  std::vector<TargetConfig> targets;
  Thresholds thresholds;     // global
  std::string state_dir;     // optional: history of past runs (backlog_growth)
  std::string source_path;   // the file it was loaded from
};

struct ConfigError {
  std::string path;     // "targets[2].retention"
  std::string message;  // "expected a duration like 7d, got \"seven\""
  std::string str() const { return path.empty() ? message : path + ": " + message; }
};

struct ConfigResult {
  std::optional<Config> config;
  std::vector<ConfigError> errors;  // empty iff config is set
};

// Parse YAML text. `${VAR}` is interpolated from the environment in every string value
// (unset variables are errors). `source_name` is used in messages only.
ConfigResult parse_config(const std::string& yaml_text, const std::string& source_name = "");
ConfigResult load_config(const std::string& path);

}  // namespace ttla
