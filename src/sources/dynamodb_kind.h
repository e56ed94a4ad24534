#pragma once
// kind: dynamodb — the settings of a dynamodb target. Its row of the kind table (keys, readers,
// IAM, help, rules) is dynamodb_kind.cc; the audit is dynamodb_source.cc.
#include <cstdint>
#include <optional>
#include <string>

#include "config/config.h"

namespace ttla {

struct DynamodbTargetConfig {
  std::string table;
  std::optional<TableSelector> tables;  // instead of `table`: each match is target <name>/<table>
  bool discovered = false;              // set on the per-table targets `tables:` expands into
  std::string ttl_attribute;
  std::optional<DynamoFilter> filter;
  std::optional<GroupBy> group_by;
  std::optional<double> sample;
  int segments = 0;                      // 0 = auto
  double max_read_units_per_second = 0;  // 0 = unlimited
  double max_read_units = 0;             // 0 = unlimited
  // Deletion rate from CloudWatch TimeToLiveDeletedItemCount over deletion_window.
  bool cloudwatch = true;
  int64_t deletion_window = 86400;      // seconds, whole hours
  // Expired items followed between runs for deletion latency (needs state_dir); 0 turns it off.
  int latency_track_keys = 1000;
  // Exact deletion latency from the table's stream when its view has old images
  // (DescribeStream/GetShardIterator/GetRecords over the last 24 h); false never reads it.
  bool latency_stream = true;
};

// The settings of a dynamodb target (`dynamodb_config(target).field`).
inline const DynamodbTargetConfig& dynamodb_config(const TargetConfig& t) { return t.kind_config<DynamodbTargetConfig>(); }
inline DynamodbTargetConfig& dynamodb_config(TargetConfig& t) { return t.kind_config<DynamodbTargetConfig>(); }

}  // namespace ttla
