#include "aws/target.h"

#include <cstdlib>

#include "aws/endpoints.h"
#include "core/error.h"

namespace ttla::aws {
namespace {

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

}  // namespace

std::string configured_region(const TargetAccess& target) {
  if (!target.region.empty()) return target.region;
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    std::string v = env_or_empty(name);
    if (!v.empty()) return v;
  }
  return profile_setting(target.profile, "region");
}

std::string resolve_region(const TargetAccess& target) {
  if (std::string region = configured_region(target); !region.empty()) return region;
  // A local or custom endpoint (the target's own or a configured one) needs some region to sign.
  if (!target.endpoint_url.empty() ||
      !configured_endpoint(target.service_id, target.profile).empty()) {
    return "us-east-1";
  }
  throw Error(ErrorKind::kConfig,
              "no AWS region for target " + target.name +
                  ": set region, AWS_REGION or AWS_DEFAULT_REGION (or a profile region)");
}

std::shared_ptr<CredentialsProvider> target_credentials(const TargetAccess& target,
                                                        const std::string& region,
                                                        std::shared_ptr<CredentialsProvider> given) {
  ChainOptions chain;
  chain.profile = target.profile;
  chain.region = region;
  chain.target_endpoint_url =
      resolve_endpoint(target.service_id, target.endpoint_url, target.profile);
  // Each target with a role_arn gets its own session (and its own refresh).
  chain.role_arn = target.role_arn;
  chain.external_id = target.external_id;
  chain.session_name = "ttl-auditor-" + target.name;
  if (!given) return make_default_chain(chain);
  if (chain.role_arn.empty()) return given;
  return make_assume_role_provider(std::move(given), assume_role_params(chain));
}

ServiceConfig target_service(const TargetAccess& target, HttpOptions http, RetryOptions retry) {
  ServiceConfig service;
  service.region = resolve_region(target);
  service.endpoint_url = resolve_endpoint(target.service_id, target.endpoint_url, target.profile);
  if (target.service_id == "s3") {
    service.s3_path_style = target.s3_path_style.value_or(!service.endpoint_url.empty());
  }
  service.http = std::move(http);
  service.retry = retry;
  return service;
}

}  // namespace ttla::aws
