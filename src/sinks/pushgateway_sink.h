#pragma once
// Pushgateway output (prometheus-cpp Gateway), job="ttl_auditor":
//   group {job}                  run-level metrics (duration, last run, build info), PUT
//   group {job, target=NAME}     one group per target so targets replace only their own series:
//     succeeded target  -> PUT  (replaces the group, last_success included)
//     failed/partial    -> POST (replaces only the families pushed, which omit last_success, so
//                                the previous success timestamp survives)
#include <string>
#include <vector>

#include "core/report.h"

namespace ttla {

inline constexpr const char* kPushgatewayJob = "ttl_auditor";

struct PushgatewayAddress {
  std::string host;  // scheme://host, what prometheus::Gateway takes as "host"
  std::string port;  // port, plus any path prefix ("9091/prefix")
};
// "http://h:9091", "https://h/pg", "h:9091" (http assumed). Throws ttla::Error(kConfig).
PushgatewayAddress parse_pushgateway_url(const std::string& url);

// Returns one message per group that failed to push (empty on success).
std::vector<std::string> push_to_gateway(const Report& report, const std::string& url);

}  // namespace ttla
