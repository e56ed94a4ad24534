#pragma once
// YAML config -> validated Config. Validation collects every problem, each naming its path
// (`targets[2].retention: expected a duration like 7d, got "seven"`), and reports them at once.
#include <any>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
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

// A target: the fields every kind has (name, kind, retention, anomalies, limits, the AWS
// connection for the AWS kinds) and the kind's own settings, a struct declared with the kind
// (e.g. DynamodbTargetConfig in sources/dynamodb_kind.h) that the config parser fills from the
// kind's row of the kind table.
struct TargetConfig {
  std::string name;
  std::string kind;  // a row of the kind table (sources/kinds.cc)

  // AWS connection (the AWS kinds: dynamodb, s3, sqs)
  std::string region;
  std::string endpoint_url;
  std::string profile;
  std::string role_arn;     // assumed for this target (cross-account audits)
  std::string external_id;  // with role_arn
  std::optional<bool> path_style;  // s3: default true with endpoint_url, false on AWS
  // CloudWatch (dynamodb deletion rate, sqs oldest message age): else endpoint_url (moto serves
  // both), else AWS.
  std::string cloudwatch_endpoint_url;

  // postgres, filesystem, s3
  std::optional<int64_t> retention;  // seconds

  int top_k = 10;  // oldest/sample/top group list sizes
  bool redact_keys = false;

  // Time limits (seconds). request_timeout: one HTTP request, whole (AWS kinds); connect_timeout:
  // establishing a connection (AWS kinds, postgres); max_duration: the whole target, after which
  // it stops, keeps what it read and is partial (dynamodb, s3, filesystem). 0 = no limit.
  // Unset: kDefaultRequestTimeout / kDefaultConnectTimeout.
  std::optional<int64_t> request_timeout;
  std::optional<int64_t> connect_timeout;
  int64_t max_duration = 0;

  Thresholds thresholds;  // global anomalies merged with the target's own

  // The kind's own settings: `kind_config<DynamodbTargetConfig>()`. The mutable form creates
  // them (default values) when the target has none yet; the const form throws std::logic_error
  // when the target holds another kind's settings or none.
  template <class T>
  T& kind_config() {
    if (!settings_.has_value()) settings_.emplace<T>();
    T* c = std::any_cast<T>(&settings_);
    if (c == nullptr) throw std::logic_error("target " + name + " (kind " + kind + ") holds another kind's settings");
    return *c;
  }
  // Null when the target holds no settings of type T (another kind's).
  template <class T>
  const T* kind_config_if() const {
    return std::any_cast<T>(&settings_);
  }
  template <class T>
  const T& kind_config() const {
    const T* c = std::any_cast<T>(&settings_);
    if (c == nullptr) throw std::logic_error("target " + name + " (kind " + kind + ") has no such settings");
    return *c;
  }

 private:
  std::any settings_;
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

// Parsing: parse_config / load_config in sources/kinds.h (they read the kind table), over
// parse_config_for in config/kind_config.h.

}  // namespace ttla
