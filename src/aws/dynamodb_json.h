#pragma once
// Pure parsers of the small DynamoDB JSON answers (no I/O): DescribeTable, DescribeTimeToLive,
// ListTables. Scan pages are read by sources/scan_page.h, which classifies items as it parses.
// Every malformed or error body throws ttla::Error(kParse) naming the operation; an error body
// (read by aws/error_body.h) is reported with its code and message.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ttla::dynamodb {

struct TableDescription {
  std::string table_name;
  std::string table_status;  // ACTIVE, CREATING, UPDATING, DELETING, ARCHIVED, ...
  std::optional<int64_t> item_count;        // refreshed by AWS about every six hours
  std::optional<int64_t> table_size_bytes;  // idem
  std::string hash_key;
  std::string range_key;  // empty when the table has no sort key
  // AttributeDefinitions: attribute name -> "S", "N" or "B" (the key attributes, at least).
  std::map<std::string, std::string> attribute_types;
};
TableDescription parse_describe_table(std::string_view json);

struct TtlDescription {
  std::string status;     // ENABLED | DISABLED | ENABLING | DISABLING
  std::string attribute;  // empty when none is configured
};
TtlDescription parse_describe_ttl(std::string_view json);

// ListTables: (TableNames, LastEvaluatedTableName or "").
std::pair<std::vector<std::string>, std::string> parse_list_tables(std::string_view json);

}  // namespace ttla::dynamodb
