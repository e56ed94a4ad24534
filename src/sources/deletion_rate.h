#pragma once
// Is TTL keeping up? The deletion rate of a DynamoDB table from CloudWatch's
// AWS/DynamoDB TimeToLiveDeletedItemCount (Sum per hour over a window ending at the last whole
// hour before as_of; hours without a datapoint count as zero deletions), and the drain estimate
// backlog / rate. The report's `deletion` section (CONTRACT) is built here.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/aws_client.h"
#include "aws/cloudwatch.h"
#include "aws/credentials.h"
#include "config/config.h"

namespace ttla {

inline constexpr int64_t kDeletionPeriodSeconds = 3600;

struct DeletionWindow {
  int64_t start = 0;  // inclusive
  int64_t end = 0;    // exclusive: the last whole hour boundary at or before as_of
};
// `window_seconds` is rounded up to whole hours.
DeletionWindow deletion_window(int64_t as_of, int64_t window_seconds);

struct DeletionRate {
  DeletionWindow window;
  double deleted_in_window = 0;  // sum of the datapoints inside the window
  double rate_per_hour = 0;      // deleted_in_window / window hours
  std::optional<double> drain_eta_seconds;  // backlog / rate; none when the rate is 0
  size_t datapoints = 0;         // hours that had a datapoint (the others count as 0)
};
// Pure: datapoints outside the window are ignored (a server may round its range outwards).
DeletionRate summarize_deletions(const std::vector<cloudwatch::Datapoint>& points,
                                 const DeletionWindow& window, double backlog);

// CloudWatch's own endpoint for a target, resolved as the SDKs do (AWS_ENDPOINT_URL_CLOUDWATCH,
// the profile's endpoint_url, ...); an explicit cloudwatch_endpoint_url, else the target's
// endpoint_url (a local stand-in serving every service), wins. Region, HTTP and retry settings
// are `base`'s.
aws::ServiceConfig cloudwatch_service_for(const TargetConfig& target, const aws::ServiceConfig& base);

// The report section: {source, window_seconds, window_start, window_end, deleted_in_window,
// rate_per_hour, drain_eta_seconds (null when the rate is 0), datapoints}.
nlohmann::json deletion_section(const DeletionRate& rate);

// Queries CloudWatch for `table` and returns the section. A CloudWatch failure does not fail the
// audit (the scan stands on its own): the section then holds {source, window_seconds, error}
// and no rate, and nothing downstream (ttl_stalled, metrics) treats it as zero deletions.
nlohmann::json query_dynamodb_deletions(const TargetConfig& target, const std::string& table,
                                        const aws::ServiceConfig& dynamodb_service,
                                        std::shared_ptr<aws::CredentialsProvider> credentials,
                                        int64_t as_of, double backlog);

}  // namespace ttla
