#include "sources/dynamodb_kind.h"
#include "sources/deletion_rate.h"

#include "core/log.h"

#include <algorithm>

#include "aws/endpoints.h"
#include "core/error.h"
#include "core/time.h"

namespace ttla {

DeletionWindow deletion_window(int64_t as_of, int64_t window_seconds) {
  const int64_t p = kDeletionPeriodSeconds;
  DeletionWindow w;
  // Floor to the hour (as_of may be before 1970 only in tests; floor, not truncate).
  w.end = as_of >= 0 ? as_of / p * p : -((-as_of + p - 1) / p) * p;
  const int64_t hours = std::max<int64_t>(1, (window_seconds + p - 1) / p);
  w.start = w.end - hours * p;
  return w;
}

DeletionRate summarize_deletions(const std::vector<cloudwatch::Datapoint>& points,
                                 const DeletionWindow& window, double backlog) {
  DeletionRate r;
  r.window = window;
  for (const auto& d : points) {
    if (d.timestamp < window.start || d.timestamp >= window.end) continue;
    r.deleted_in_window += d.value;
    ++r.datapoints;
  }
  const double hours = static_cast<double>(window.end - window.start) / 3600.0;
  r.rate_per_hour = hours > 0 ? r.deleted_in_window / hours : 0;
  if (r.rate_per_hour > 0) r.drain_eta_seconds = std::max(0.0, backlog) / r.rate_per_hour * 3600.0;
  return r;
}

nlohmann::json deletion_section(const DeletionRate& rate) {
  nlohmann::json j = {{"source", "cloudwatch"},
                      {"window_seconds", rate.window.end - rate.window.start},
                      {"window_start", format_rfc3339(rate.window.start)},
                      {"window_end", format_rfc3339(rate.window.end)},
                      {"deleted_in_window", rate.deleted_in_window},
                      {"rate_per_hour", rate.rate_per_hour},
                      {"drain_eta_seconds", nullptr},
                      {"datapoints", rate.datapoints}};
  if (rate.drain_eta_seconds) j["drain_eta_seconds"] = *rate.drain_eta_seconds;
  return j;
}

aws::ServiceConfig cloudwatch_service_for(const TargetConfig& target, const aws::ServiceConfig& base) {
  aws::ServiceConfig service = base;
  service.endpoint_url = aws::resolve_endpoint(
      "cloudwatch",
      target.cloudwatch_endpoint_url.empty() ? target.endpoint_url : target.cloudwatch_endpoint_url,
      target.profile);
  return service;
}

nlohmann::json query_dynamodb_deletions(const TargetConfig& target, const std::string& table,
                                        const aws::ServiceConfig& dynamodb_service,
                                        std::shared_ptr<aws::CredentialsProvider> credentials,
                                        int64_t as_of, double backlog) {
  const DeletionWindow window = deletion_window(as_of, dynamodb_config(target).deletion_window);
  // CloudWatch's own endpoint, not the DynamoDB one.
  const aws::ServiceConfig service = cloudwatch_service_for(target, dynamodb_service);
  cloudwatch::MetricQuery q;
  q.metric_namespace = "AWS/DynamoDB";
  q.metric_name = "TimeToLiveDeletedItemCount";
  q.dimensions = {{"TableName", table}};
  q.stat = "Sum";
  q.period_seconds = kDeletionPeriodSeconds;
  q.start = window.start;
  q.end = window.end;
  try {
    aws::AwsClient client(service, std::move(credentials));
    const DeletionRate rate =
        summarize_deletions(cloudwatch::get_metric_data(client, q), window, backlog);
    return deletion_section(rate);
  } catch (const Error& e) {
    log::warn("cloudwatch deletion rate unavailable", Fields()
            .add("target", target.name)
            .add("table", table)
            .add("error", e.what()));
    return {{"source", "cloudwatch"},
            {"window_seconds", window.end - window.start},
            {"error", std::string(to_string(e.kind())) + ": " + e.what()}};
  }
}

}  // namespace ttla
