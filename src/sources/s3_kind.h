#pragma once
// kind: s3 — the settings of an s3 target. Its row of the kind table (keys, readers, IAM, help,
// rules) is s3_kind.cc; the audit is s3_source.cc.
#include <cstdint>
#include <optional>
#include <string>

#include "config/config.h"

namespace ttla {

struct S3TargetConfig {
  std::string bucket;
  std::string prefix;
  std::optional<TableSelector> buckets;  // instead of `bucket`: each match is target <name>/<bucket>
  std::optional<int64_t> multipart_max_age;
  std::optional<int64_t> noncurrent_retention;
  std::optional<GroupBy> group_by;  // delimiter and depth
  std::optional<Orphans> orphans;   // key_regex, dynamodb_table, key_attribute, min_age
  uint64_t max_requests = 0;        // 0 = unlimited
  // GetObjectTagging budget per run for objects a tag-filtered lifecycle rule may match;
  // 0 = tags are not read (such rules are reported as not evaluated).
  uint64_t read_tags = 0;
  // Expired objects followed between runs for deletion latency (needs state_dir); 0 turns it off.
  int latency_track_keys = 1000;
};

// The settings of a s3 target (`s3_config(target).field`).
inline const S3TargetConfig& s3_config(const TargetConfig& t) { return t.kind_config<S3TargetConfig>(); }
inline S3TargetConfig& s3_config(TargetConfig& t) { return t.kind_config<S3TargetConfig>(); }

}  // namespace ttla
