#include "aws/endpoints.h"

#include <cctype>
#include <cstdlib>
#include <optional>

#include "aws/credentials.h"
#include "aws/url.h"
#include "core/text.h"

namespace ttla::aws {
namespace {

std::optional<std::string> env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

bool is_true(const std::string& v) { return to_lower(v) == "true"; }

}  // namespace

Partition partition_of(const std::string& region) {
  auto starts = [&](const char* p) { return region.rfind(p, 0) == 0; };
  if (starts("cn-")) return {"aws-cn", "amazonaws.com.cn"};
  if (starts("us-gov-")) return {"aws-us-gov", "amazonaws.com"};
  if (starts("us-isob-")) return {"aws-iso-b", "sc2s.sgov.gov"};
  if (starts("us-iso-")) return {"aws-iso", "c2s.ic.gov"};
  return {"aws", "amazonaws.com"};
}

std::string configured_endpoint(std::string_view service_id, const std::string& profile_in) {
  const std::string profile = effective_profile(profile_in);
  std::optional<IniSection> settings = find_profile(profile);
  auto setting = [&](const char* key) -> std::string {
    if (!settings) return {};
    auto it = settings->find(key);
    return it == settings->end() ? std::string() : it->second;
  };
  if (auto ignore = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"); ignore && is_true(*ignore)) return {};
  if (is_true(setting("ignore_configured_endpoint_urls"))) return {};
  if (auto v = env("AWS_ENDPOINT_URL_" + to_upper(service_id))) return *v;
  if (std::string services = setting("services"); !services.empty()) {
    IniSection section = config_section("services " + services);
    auto it = section.find(std::string(service_id) + ".endpoint_url");
    if (it != section.end() && !it->second.empty()) return it->second;
  }
  if (auto v = env("AWS_ENDPOINT_URL")) return *v;
  return setting("endpoint_url");
}

std::string resolve_endpoint(std::string_view service_id, const std::string& explicit_url,
                             const std::string& profile) {
  if (!explicit_url.empty()) return explicit_url;
  return configured_endpoint(service_id, profile);
}

std::string public_endpoint(std::string_view service_id, const std::string& region) {
  std::string prefix(service_id);
  if (service_id == "cloudwatch") prefix = "monitoring";
  if (service_id == "dynamodb_streams") prefix = "streams.dynamodb";
  return "https://" + prefix + "." + region + "." + partition_of(region).dns_suffix;
}

bool is_loopback_url(const std::string& url) {
  std::optional<Url> parsed = parse_url(url);
  return parsed && is_loopback_host(parsed->host);
}

}  // namespace ttla::aws
