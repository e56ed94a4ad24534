#pragma once
// CloudWatch GetMetricData (Query protocol) for one metric statistic: the form parameters of a
// request, a pure parser of the XML answer, and the paging loop over AwsClient::cloudwatch().
// Used for AWS/DynamoDB TimeToLiveDeletedItemCount; nothing here writes.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/aws_client.h"

namespace ttla::cloudwatch {

struct MetricQuery {
  std::string metric_namespace;  // "AWS/DynamoDB"
  std::string metric_name;       // "TimeToLiveDeletedItemCount"
  std::vector<std::pair<std::string, std::string>> dimensions;  // {{"TableName", "Sessions"}}
  std::string stat = "Sum";
  int64_t period_seconds = 3600;
  int64_t start = 0;  // epoch seconds, inclusive
  int64_t end = 0;    // epoch seconds, exclusive
};

struct Datapoint {
  int64_t timestamp = 0;  // start of the period, epoch seconds
  double value = 0;
};

struct MetricDataPage {
  std::vector<Datapoint> points;  // in the order returned (CloudWatch: newest first)
  std::string status_code;        // "Complete" | "PartialData" | ...
  std::string next_token;         // empty on the last page
};

// Form parameters (without Action/Version, which AwsClient adds) for a one-query
// GetMetricData; `next_token` continues a paged answer.
std::vector<std::pair<std::string, std::string>> get_metric_data_params(
    const MetricQuery& query, const std::string& next_token = "");

// Parses a GetMetricDataResponse holding the single query "m0". Throws ttla::Error(kParse) on
// malformed XML, a missing result or Timestamps/Values of different lengths.
MetricDataPage parse_get_metric_data(std::string_view xml);

// Every datapoint of the query, following NextToken (at most `max_pages` requests).
std::vector<Datapoint> get_metric_data(aws::AwsClient& client, const MetricQuery& query,
                                       int max_pages = 10);

}  // namespace ttla::cloudwatch
