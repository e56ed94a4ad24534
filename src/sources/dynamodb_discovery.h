#pragma once
// kind: dynamodb with `tables:` — every table ListTables (paged) returns that matches an include
// glob and no exclude glob becomes its own target `<name>/<table>`, audited like a `table:`
// target. Discovered tables are sampled by default with a per-table read budget, so pointing the
// auditor at a whole account stays cheap; a table with TTL disabled is reported (ttl_disabled),
// not failed.
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

// fnmatch-style glob (`*`, `?`, `[...]`) on the whole table name.
bool table_selected(const TableSelector& selector, std::string_view table);

// Pure: ListTables response -> (TableNames, LastEvaluatedTableName or ""). Throws
// ttla::Error(kParse) on anything else.
std::pair<std::vector<std::string>, std::string> parse_list_tables(std::string_view body);

// The per-table targets of a `tables:` target, sorted by table name. Throws ttla::Error when
// ListTables fails (the caller reports the parent target as failed).
std::vector<TargetConfig> discover_dynamodb_targets(
    const TargetConfig& parent, std::shared_ptr<aws::CredentialsProvider> credentials = nullptr);

// The per-table target for one table (name, defaults), without I/O.
TargetConfig discovered_target(const TargetConfig& parent, const std::string& table);

}  // namespace ttla
