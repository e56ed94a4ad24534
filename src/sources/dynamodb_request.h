#pragma once
// Pure builders of DynamoDB request bodies for the audit (no I/O). Every attribute name goes
// through ExpressionAttributeNames (TTL is a reserved word; names may hold any character), with
// aliases that never clash with the names and values of the user's population filter.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "sources/scan_page.h"

namespace ttla::dynamodb {

struct ScanPlan {
  std::string table;
  std::string projection;          // "#ttla_k0, #ttla_k1, #ttla_t, #ttla_g0"
  std::string filter_expression;   // empty: none
  nlohmann::json names = nlohmann::json::object();   // ExpressionAttributeNames (merged)
  nlohmann::json values = nlohmann::json::object();  // ExpressionAttributeValues (merged)
  // The server drops not_yet_expired items (FilterExpression NOT (#t > :asof AND #t < :ms));
  // they are then counted as ScannedCount - Count. Only when there is no population filter,
  // because only then ScannedCount - Count is exactly that class.
  bool server_drops_not_yet_expired = false;
};

// `drop_not_yet_expired` asks for the server-side drop; it is ignored when `filter` is set.
ScanPlan make_scan_plan(const std::string& table, const ItemSchema& schema,
                        const std::optional<DynamoFilter>& filter, int64_t as_of,
                        bool drop_not_yet_expired);

// One Scan request: eventually consistent, ReturnConsumedCapacity TOTAL, segment `segment` of
// `total_segments`, continuing after `exclusive_start_key` (raw JSON object; empty: from start);
// `limit` > 0 caps the items the page evaluates (and so what it costs).
std::string scan_request_body(const ScanPlan& plan, uint64_t segment, uint64_t total_segments,
                              std::string_view exclusive_start_key, uint64_t limit = 0);

std::string describe_table_body(const std::string& table);
std::string describe_ttl_body(const std::string& table);

}  // namespace ttla::dynamodb
