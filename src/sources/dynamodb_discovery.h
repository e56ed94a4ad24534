#pragma once
// Discovery: kind dynamodb with `tables:` (ListTables, paged) and kind s3 with `buckets:`
// (ListBuckets, paged by continuation token). Every listed name that matches an include glob and
// no exclude glob becomes its own target `<name>/<table or bucket>`, audited like a `table:` /
// `bucket:` target. Discovered tables are sampled by default with a per-table read budget, so
// pointing the auditor at a whole account stays cheap; a table with TTL disabled is reported
// (ttl_disabled), not failed. A discovered bucket is audited whole (the parent's `prefix` if it
// sets one): each object is judged by the bucket's own lifecycle rules, so what they cover is
// what is audited, and a bucket without an expiration rule is reported (lifecycle_missing).
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/credentials.h"
#include "config/config.h"

namespace ttla {

// Defaults for discovered tables when the target does not set `sample` / `max_read_units`.
inline constexpr double kDiscoveredSample = 0.05;
inline constexpr double kDiscoveredReadBudget = 10000;

// fnmatch-style glob (`*`, `?`, `[...]`) on the whole name.
bool name_selected(const TableSelector& selector, std::string_view name);
inline bool table_selected(const TableSelector& selector, std::string_view table) {
  return name_selected(selector, table);
}

// Whether a target is expanded by discovery (`tables:` or `buckets:`).
bool is_discovery_target(const TargetConfig& target);

// The per-table targets of a `tables:` target, sorted by table name. Throws ttla::Error when
// ListTables fails (the caller reports the parent target as failed).
std::vector<TargetConfig> discover_dynamodb_targets(
    const TargetConfig& parent, std::shared_ptr<aws::CredentialsProvider> credentials = nullptr);

// The per-bucket targets of a `buckets:` target, sorted by bucket name. Throws ttla::Error when
// ListBuckets fails.
std::vector<TargetConfig> discover_s3_targets(
    const TargetConfig& parent, std::shared_ptr<aws::CredentialsProvider> credentials = nullptr);

// Either of the above, by the parent's kind.
std::vector<TargetConfig> discover_targets(
    const TargetConfig& parent, std::shared_ptr<aws::CredentialsProvider> credentials = nullptr);

// The target for one discovered table or bucket (name, defaults), without I/O.
TargetConfig discovered_target(const TargetConfig& parent, const std::string& name);

}  // namespace ttla
