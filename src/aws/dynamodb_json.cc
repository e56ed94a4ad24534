#include "aws/dynamodb_json.h"

#include <nlohmann/json.hpp>

#include "aws/error_body.h"
#include "core/error.h"

namespace ttla::dynamodb {

namespace {

[[noreturn]] void fail(std::string what) { throw Error(ErrorKind::kParse, std::move(what)); }

nlohmann::json parse_small(std::string_view json, const char* what) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    fail(std::string(what) + ": response is not a JSON object");
  }
  if (auto t = j.find("__type"); t != j.end() && t->is_string()) {
    const std::optional<aws::ErrorBody> e = aws::parse_error_body(json);
    fail(std::string(what) + ": DynamoDB error body: " + (e ? e->code : t->get<std::string>()) +
         (e && !e->message.empty() ? ": " + e->message : ""));
  }
  return j;
}

}  // namespace

TableDescription parse_describe_table(std::string_view json) {
  nlohmann::json j = parse_small(json, "DescribeTable");
  auto t = j.find("Table");
  if (t == j.end() || !t->is_object()) fail("DescribeTable: no Table object");
  TableDescription d;
  if (auto v = t->find("TableName"); v != t->end() && v->is_string()) d.table_name = *v;
  if (auto v = t->find("TableStatus"); v != t->end() && v->is_string()) d.table_status = *v;
  if (auto v = t->find("ItemCount"); v != t->end() && v->is_number_integer()) {
    d.item_count = v->get<int64_t>();
  }
  if (auto v = t->find("TableSizeBytes"); v != t->end() && v->is_number_integer()) {
    d.table_size_bytes = v->get<int64_t>();
  }
  auto ks = t->find("KeySchema");
  if (ks == t->end() || !ks->is_array() || ks->empty()) fail("DescribeTable: no KeySchema");
  for (const auto& e : *ks) {
    if (!e.is_object() || !e.contains("AttributeName") || !e.contains("KeyType") ||
        !e["AttributeName"].is_string() || !e["KeyType"].is_string()) {
      fail("DescribeTable: malformed KeySchema element");
    }
    const std::string type = e["KeyType"];
    if (type == "HASH") {
      d.hash_key = e["AttributeName"];
    } else if (type == "RANGE") {
      d.range_key = e["AttributeName"];
    } else {
      fail("DescribeTable: unknown KeyType " + type);
    }
  }
  if (d.hash_key.empty()) fail("DescribeTable: KeySchema has no HASH key");
  if (auto defs = t->find("AttributeDefinitions"); defs != t->end() && defs->is_array()) {
    for (const auto& e : *defs) {
      if (!e.is_object()) fail("DescribeTable: malformed AttributeDefinitions element");
      auto name = e.find("AttributeName");
      auto type = e.find("AttributeType");
      if (name == e.end() || type == e.end() || !name->is_string() || !type->is_string()) {
        fail("DescribeTable: malformed AttributeDefinitions element");
      }
      d.attribute_types[name->get<std::string>()] = type->get<std::string>();
    }
  }
  return d;
}

TtlDescription parse_describe_ttl(std::string_view json) {
  nlohmann::json j = parse_small(json, "DescribeTimeToLive");
  auto t = j.find("TimeToLiveDescription");
  if (t == j.end() || !t->is_object()) fail("DescribeTimeToLive: no TimeToLiveDescription");
  TtlDescription d;
  if (auto v = t->find("TimeToLiveStatus"); v != t->end() && v->is_string()) {
    d.status = *v;
  } else {
    fail("DescribeTimeToLive: no TimeToLiveStatus");
  }
  if (auto v = t->find("AttributeName"); v != t->end() && v->is_string()) d.attribute = *v;
  return d;
}

std::pair<std::vector<std::string>, std::string> parse_list_tables(std::string_view json) {
  const nlohmann::json j = parse_small(json, "ListTables");
  if (!j.contains("TableNames") || !j["TableNames"].is_array()) {
    fail("ListTables: no TableNames list in the response");
  }
  std::vector<std::string> names;
  for (const auto& n : j["TableNames"]) {
    if (!n.is_string()) fail("ListTables: a table name is not a string");
    names.push_back(n.get<std::string>());
  }
  std::string last;
  if (auto it = j.find("LastEvaluatedTableName"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) fail("ListTables: bad LastEvaluatedTableName");
    last = it->get<std::string>();
  }
  return {std::move(names), std::move(last)};
}

}  // namespace ttla::dynamodb
