#include "sources/aws_target.h"

namespace ttla {

std::string aws_service_id(const std::string& kind) {
  return kind == "s3" || kind == "sqs" ? kind : std::string("dynamodb");
}

aws::TargetAccess aws_access(const TargetConfig& target, const std::string& service_id) {
  aws::TargetAccess a;
  a.name = target.name;
  a.service_id = service_id.empty() ? aws_service_id(target.kind) : service_id;
  a.region = target.region;
  a.endpoint_url = target.endpoint_url;
  a.profile = target.profile;
  a.role_arn = target.role_arn;
  a.external_id = target.external_id;
  a.s3_path_style = target.path_style;
  return a;
}

}  // namespace ttla
