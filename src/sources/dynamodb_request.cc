#include "sources/dynamodb_request.h"

#include <vector>

namespace ttla::dynamodb {

namespace {

// First of base, base_1, base_2... that `taken` does not hold as a key.
std::string unique_alias(const std::string& base, const nlohmann::json& taken) {
  std::string alias = base;
  for (int i = 1; taken.contains(alias); ++i) alias = base + "_" + std::to_string(i);
  return alias;
}

}  // namespace

ScanPlan make_scan_plan(const std::string& table, const ItemSchema& schema,
                        const std::optional<DynamoFilter>& filter, int64_t as_of,
                        bool drop_not_yet_expired) {
  ScanPlan plan;
  plan.table = table;
  if (filter) {
    for (const auto& [alias, name] : filter->names) plan.names[alias] = name;
    if (filter->values.is_object()) {
      for (auto it = filter->values.begin(); it != filter->values.end(); ++it) {
        plan.values[it.key()] = it.value();
      }
    }
    plan.filter_expression = filter->expression;
  }
  // Aliases for each attribute we read, deduplicated by attribute name.
  std::vector<std::pair<std::string, std::string>> ours;  // (name, alias)
  auto alias_for = [&](const std::string& name, const std::string& base) {
    for (auto& [n, a] : ours) {
      if (n == name) return a;
    }
    std::string a = unique_alias(base, plan.names);
    plan.names[a] = name;
    ours.emplace_back(name, a);
    return a;
  };
  for (size_t i = 0; i < schema.key_attributes.size(); ++i) {
    alias_for(schema.key_attributes[i], "#ttla_k" + std::to_string(i));
  }
  const std::string ttl_alias = alias_for(schema.ttl_attribute, "#ttla_t");
  if (schema.group_by) {
    std::vector<std::string> g = group_attributes(*schema.group_by);
    for (size_t i = 0; i < g.size(); ++i) alias_for(g[i], "#ttla_g" + std::to_string(i));
  }
  for (size_t i = 0; i < ours.size(); ++i) {
    if (i) plan.projection += ", ";
    plan.projection += ours[i].second;
  }
  if (drop_not_yet_expired && !filter) {
    // Comparisons are false for a missing attribute or one of another type, so the server
    // drops exactly the items that are Numbers with as_of < value < 1e11: not_yet_expired.
    const std::string asof = unique_alias(":ttla_asof", plan.values);
    plan.values[asof] = {{"N", std::to_string(as_of)}};
    const std::string ms = unique_alias(":ttla_ms", plan.values);
    plan.values[ms] = {{"N", "100000000000"}};
    plan.filter_expression =
        "NOT (" + ttl_alias + " > " + asof + " AND " + ttl_alias + " < " + ms + ")";
    plan.server_drops_not_yet_expired = true;
  }
  return plan;
}

std::string scan_request_body(const ScanPlan& plan, uint64_t segment, uint64_t total_segments,
                              std::string_view exclusive_start_key, uint64_t limit) {
  nlohmann::json j = {
      {"TableName", plan.table},
      {"ProjectionExpression", plan.projection},
      {"ExpressionAttributeNames", plan.names},
      {"ReturnConsumedCapacity", "TOTAL"},
      {"ConsistentRead", false},
      {"Segment", segment},
      {"TotalSegments", total_segments},
  };
  if (!plan.filter_expression.empty()) j["FilterExpression"] = plan.filter_expression;
  if (!plan.values.empty()) j["ExpressionAttributeValues"] = plan.values;
  if (limit > 0) j["Limit"] = limit;
  std::string body = j.dump();
  if (!exclusive_start_key.empty()) {
    // The key goes back byte for byte as DynamoDB sent it (no re-encoding of its values).
    body.pop_back();
    body += ",\"ExclusiveStartKey\":";
    body += exclusive_start_key;
    body += '}';
  }
  return body;
}

std::string describe_table_body(const std::string& table) {
  return nlohmann::json{{"TableName", table}}.dump();
}

std::string describe_ttl_body(const std::string& table) {
  return nlohmann::json{{"TableName", table}}.dump();
}

}  // namespace ttla::dynamodb
