#include "sources/dynamodb_discovery.h"

#include <fnmatch.h>

#include <algorithm>

#include <nlohmann/json.hpp>
#include "core/log.h"

#include "aws/aws_client.h"
#include "aws/dynamodb_json.h"
#include "aws/s3_xml.h"
#include "core/error.h"
#include "sources/aws_target.h"
#include "sources/dynamodb_kind.h"
#include "sources/s3_kind.h"
#include "sources/target_limits.h"

namespace ttla {
namespace {

bool any_match(const std::vector<std::string>& globs, const std::string& name) {
  return std::any_of(globs.begin(), globs.end(), [&](const std::string& g) {
    return ::fnmatch(g.c_str(), name.c_str(), 0) == 0;
  });
}

// A cap on pages keeps a misbehaving server from looping.
constexpr int kMaxPages = 10000;

// Pages through a listing (`list_page(start)` -> names and the next start, "" at the end) and
// returns the targets for the selected names, sorted and unique.
template <typename ListPage>
std::vector<TargetConfig> expand(const TargetConfig& parent, const TableSelector& selector,
                                 const char* operation, const char* what, ListPage list_page) {
  std::vector<std::string> matched;
  size_t listed = 0;
  std::string start;
  for (int page = 0;; ++page) {
    if (page >= kMaxPages) throw Error(ErrorKind::kParse, std::string(operation) + ": too many pages");
    auto [names, next] = list_page(start);
    listed += names.size();
    for (const auto& n : names) {
      if (name_selected(selector, n)) matched.push_back(n);
    }
    if (next.empty()) break;
    if (next == start) throw Error(ErrorKind::kParse, std::string(operation) + ": page token repeated");
    start = std::move(next);
  }
  std::sort(matched.begin(), matched.end());
  matched.erase(std::unique(matched.begin(), matched.end()), matched.end());
  log::info(std::string(what) + " discovered", Fields()
          .add("target", parent.name)
          .add("listed", listed)
          .add("matched", matched.size()));
  std::vector<TargetConfig> out;
  out.reserve(matched.size());
  for (const auto& n : matched) out.push_back(discovered_target(parent, n));
  return out;
}

}  // namespace

bool name_selected(const TableSelector& selector, std::string_view name) {
  const std::string n(name);
  return any_match(selector.include, n) && !any_match(selector.exclude, n);
}

bool is_discovery_target(const TargetConfig& target) {
  const auto* d = target.kind_config_if<DynamodbTargetConfig>();
  const auto* s = target.kind_config_if<S3TargetConfig>();
  return (d != nullptr && d->tables) || (s != nullptr && s->buckets);
}

TargetConfig discovered_target(const TargetConfig& parent, const std::string& name) {
  TargetConfig t = parent;
  t.name = parent.name + "/" + name;
  if (parent.kind == "s3") {
    auto& c = s3_config(t);
    c.buckets.reset();
    c.bucket = name;
    return t;
  }
  auto& c = dynamodb_config(t);
  c.tables.reset();
  c.discovered = true;
  c.table = name;
  if (!c.sample) c.sample = kDiscoveredSample;
  if (c.max_read_units <= 0) c.max_read_units = kDiscoveredReadBudget;
  return t;
}

std::vector<TargetConfig> discover_dynamodb_targets(
    const TargetConfig& parent, std::shared_ptr<aws::CredentialsProvider> credentials) {
  const auto* own = parent.kind_config_if<DynamodbTargetConfig>();
  if (own == nullptr || !own->tables) {
    throw Error(ErrorKind::kConfig, "target " + parent.name + " has no tables:");
  }
  const aws::TargetAccess access = aws_access(parent, "dynamodb");
  const aws::ServiceConfig service =
      aws::target_service(access, http_options_for(parent, RunContext{}, {}), {});
  aws::AwsClient client(service,
                        aws::target_credentials(access, service.region, std::move(credentials)));
  return expand(parent, *own->tables, "ListTables", "dynamodb tables", [&](const std::string& start) {
    // Pages are at most 100 names (the API maximum).
    nlohmann::json body = {{"Limit", 100}};
    if (!start.empty()) body["ExclusiveStartTableName"] = start;
    return dynamodb::parse_list_tables(client.dynamodb("ListTables", body.dump()));
  });
}

std::vector<TargetConfig> discover_s3_targets(const TargetConfig& parent,
                                              std::shared_ptr<aws::CredentialsProvider> credentials) {
  const auto* own = parent.kind_config_if<S3TargetConfig>();
  if (own == nullptr || !own->buckets) {
    throw Error(ErrorKind::kConfig, "target " + parent.name + " has no buckets:");
  }
  const aws::TargetAccess access = aws_access(parent, "s3");
  const aws::ServiceConfig service = aws::target_service(access, {}, {});
  aws::AwsClient client(service,
                        aws::target_credentials(access, service.region, std::move(credentials)));
  return expand(parent, *own->buckets, "ListBuckets", "s3 buckets", [&](const std::string& start) {
    std::vector<std::pair<std::string, std::string>> query;
    if (!start.empty()) query.emplace_back("continuation-token", start);
    aws::HttpResponse r = client.s3("GET", "", "", query);
    if (r.status < 200 || r.status >= 300) {
      throw Error(ErrorKind::kHttp, "ListBuckets: HTTP " + std::to_string(r.status));
    }
    s3::ListBucketsPage page = s3::parse_list_buckets(r.body);
    return std::make_pair(std::move(page.names), std::move(page.continuation_token));
  });
}

std::vector<TargetConfig> discover_targets(const TargetConfig& parent,
                                           std::shared_ptr<aws::CredentialsProvider> credentials) {
  if (parent.kind == "s3") return discover_s3_targets(parent, std::move(credentials));
  return discover_dynamodb_targets(parent, std::move(credentials));
}

}  // namespace ttla
