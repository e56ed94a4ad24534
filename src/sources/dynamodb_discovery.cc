#include "sources/dynamodb_discovery.h"

#include <fnmatch.h>

#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "aws/aws_client.h"
#include "core/error.h"
#include "sources/dynamodb_source.h"
#include "sources/target_limits.h"

namespace ttla {
namespace {

bool any_match(const std::vector<std::string>& globs, const std::string& name) {
  return std::any_of(globs.begin(), globs.end(), [&](const std::string& g) {
    return ::fnmatch(g.c_str(), name.c_str(), 0) == 0;
  });
}

// Pages are at most 100 names (the API maximum); a cap keeps a misbehaving server from looping.
constexpr int kMaxPages = 10000;

}  // namespace

bool table_selected(const TableSelector& selector, std::string_view table) {
  const std::string name(table);
  return any_match(selector.include, name) && !any_match(selector.exclude, name);
}

std::pair<std::vector<std::string>, std::string> parse_list_tables(std::string_view body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("TableNames") || !j["TableNames"].is_array()) {
    throw Error(ErrorKind::kParse, "ListTables: no TableNames list in the response");
  }
  std::vector<std::string> names;
  for (const auto& n : j["TableNames"]) {
    if (!n.is_string()) throw Error(ErrorKind::kParse, "ListTables: a table name is not a string");
    names.push_back(n.get<std::string>());
  }
  std::string last;
  if (auto it = j.find("LastEvaluatedTableName"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) throw Error(ErrorKind::kParse, "ListTables: bad LastEvaluatedTableName");
    last = it->get<std::string>();
  }
  return {std::move(names), std::move(last)};
}

TargetConfig discovered_target(const TargetConfig& parent, const std::string& table) {
  TargetConfig t = parent;
  t.name = parent.name + "/" + table;
  t.table = table;
  t.tables.reset();
  t.discovered = true;
  if (!t.sample) t.sample = kDiscoveredSample;
  if (t.max_read_units <= 0) t.max_read_units = kDiscoveredReadBudget;
  return t;
}

std::vector<TargetConfig> discover_dynamodb_targets(
    const TargetConfig& parent, std::shared_ptr<aws::CredentialsProvider> credentials) {
  if (!parent.tables) throw Error(ErrorKind::kConfig, "target " + parent.name + " has no tables:");
  aws::ServiceConfig service;
  service.region = resolve_dynamodb_region(parent);
  service.endpoint_url = parent.endpoint_url;
  service.http = http_options_for(parent, RunContext{}, service.http);
  aws::AwsClient client(service, credentials_for(parent, service.region, std::move(credentials)));
  std::vector<std::string> matched;
  size_t listed = 0;
  std::string start;
  for (int page = 0;; ++page) {
    if (page >= kMaxPages) throw Error(ErrorKind::kParse, "ListTables: too many pages");
    nlohmann::json body = {{"Limit", 100}};
    if (!start.empty()) body["ExclusiveStartTableName"] = start;
    auto [names, last] = parse_list_tables(client.dynamodb("ListTables", body.dump()));
    listed += names.size();
    for (const auto& n : names) {
      if (table_selected(*parent.tables, n)) matched.push_back(n);
    }
    if (last.empty()) break;
    if (last == start) throw Error(ErrorKind::kParse, "ListTables: LastEvaluatedTableName repeated");
    start = std::move(last);
  }
  std::sort(matched.begin(), matched.end());
  matched.erase(std::unique(matched.begin(), matched.end()), matched.end());
  spdlog::info("dynamodb tables discovered target={} listed={} matched={}", parent.name, listed,
               matched.size());
  std::vector<TargetConfig> out;
  out.reserve(matched.size());
  for (const auto& n : matched) out.push_back(discovered_target(parent, n));
  return out;
}

}  // namespace ttla
