#include "sources/kinds.h"

#include <algorithm>
#include <cstdlib>

#include "aws/aws_client.h"
#include "aws/endpoints.h"

namespace ttla {

// One line per kind: its row, defined in sources/<kind>_kind.cc.
const Kind& dynamodb_kind();
const Kind& s3_kind();
const Kind& postgres_kind();
const Kind& filesystem_kind();
const Kind& sqs_kind();

const std::vector<const Kind*>& kinds() {
  static const std::vector<const Kind*> all = {&dynamodb_kind(), &s3_kind(), &postgres_kind(),
                                               &filesystem_kind(), &sqs_kind()};
  return all;
}

const Kind* find_kind(const std::string& name) {
  for (const Kind* k : kinds()) {
    if (k->name == name) return k;
  }
  return nullptr;
}

std::unique_ptr<Source> make_source(const std::string& kind) {
  const Kind* k = find_kind(kind);
  return k != nullptr && k->make != nullptr ? k->make() : nullptr;
}

const std::vector<std::string>& source_kinds() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const Kind* k : kinds()) out.push_back(k->name);
    return out;
  }();
  return names;
}

bool kind_reports_expiry(const std::string& kind) {
  const Kind* k = find_kind(kind);
  return k == nullptr || k->reports_expiry;
}

namespace {

std::vector<const KindConfig*> kind_configs() {
  std::vector<const KindConfig*> out;
  for (const Kind* k : kinds()) out.push_back(&k->config);
  return out;
}

}  // namespace

ConfigResult parse_config(const std::string& yaml_text, const std::string& source_name) {
  return parse_config_for(kind_configs(), yaml_text, source_name);
}

ConfigResult load_config(const std::string& path) { return load_config_for(kind_configs(), path); }

void add_scope(std::string& scope, const std::string& key, const std::string& value) {
  if (!value.empty()) scope += (scope.empty() ? "" : ", ") + key + " " + value;
}

void IamGrants::allow(const std::string& sid, const std::vector<std::string>& actions,
                      const std::string& resource) {
  auto it = std::find_if(statements_.begin(), statements_.end(),
                         [&](const Statement& s) { return s.sid == sid; });
  if (it == statements_.end()) it = statements_.insert(statements_.end(), Statement{sid, {}, {}});
  for (const auto& a : actions) {
    if (std::find(it->actions.begin(), it->actions.end(), a) == it->actions.end()) {
      it->actions.push_back(a);
    }
  }
  it->resources.insert(resource);
}

nlohmann::json IamGrants::statements() const {
  nlohmann::json out = nlohmann::json::array();
  for (const Statement& s : statements_) {
    nlohmann::json j = nlohmann::json::object();
    j["Sid"] = s.sid;
    j["Effect"] = "Allow";
    j["Action"] = s.actions;
    j["Resource"] = std::vector<std::string>(s.resources.begin(), s.resources.end());
    out.push_back(std::move(j));
  }
  return out;
}

std::string iam_region(const TargetConfig& t) {
  if (!t.region.empty()) return t.region;
  for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') return v;
  }
  return "*";
}

std::string iam_partition(const std::string& region) {
  return region == "*" ? "aws" : aws::partition_of(region).name;
}

std::string dynamodb_table_arn(const std::string& region, const std::string& table) {
  return "arn:" + iam_partition(region) + ":dynamodb:" + region + ":*:table/" + table;
}

std::vector<std::string> dynamodb_actions(const std::vector<std::string>& operations) {
  std::vector<std::string> out;
  for (const auto& op : operations) {
    if (aws::is_allowed_dynamodb_operation(op)) out.push_back("dynamodb:" + op);
  }
  return out;
}

}  // namespace ttla
