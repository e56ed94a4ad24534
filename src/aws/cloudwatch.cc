#include "aws/cloudwatch.h"

#include <cerrno>
#include <cstdlib>

#include <pugixml.hpp>

#include "aws/xml.h"
#include "core/error.h"
#include "core/time.h"

namespace ttla::cloudwatch {
namespace {

constexpr const char* kQueryId = "m0";

[[noreturn]] void malformed(const std::string& why) {
  throw Error(ErrorKind::kParse, "GetMetricData: " + why);
}

// Query-protocol answers are namespaced: members are matched on their local name.
using aws::xml::member;
using aws::xml::members;

double parse_double(const std::string& text) {
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE) {
    malformed("value \"" + text + "\" is not a number");
  }
  return v;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> get_metric_data_params(
    const MetricQuery& query, const std::string& next_token) {
  const std::string q = std::string("MetricDataQueries.member.1.");
  std::vector<std::pair<std::string, std::string>> p = {
      {"StartTime", format_rfc3339(query.start)},
      {"EndTime", format_rfc3339(query.end)},
      {"ScanBy", "TimestampDescending"},
      {q + "Id", kQueryId},
      {q + "ReturnData", "true"},
      {q + "MetricStat.Metric.Namespace", query.metric_namespace},
      {q + "MetricStat.Metric.MetricName", query.metric_name},
      {q + "MetricStat.Period", std::to_string(query.period_seconds)},
      {q + "MetricStat.Stat", query.stat},
  };
  for (size_t i = 0; i < query.dimensions.size(); ++i) {
    const std::string d = q + "MetricStat.Metric.Dimensions.member." + std::to_string(i + 1) + ".";
    p.emplace_back(d + "Name", query.dimensions[i].first);
    p.emplace_back(d + "Value", query.dimensions[i].second);
  }
  if (!next_token.empty()) p.emplace_back("NextToken", next_token);
  return p;
}

MetricDataPage parse_get_metric_data(std::string_view xml) {
  pugi::xml_document doc;
  pugi::xml_parse_result r =
      doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!r) malformed(std::string("malformed XML: ") + r.description());
  pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()).find("GetMetricDataResponse") == std::string_view::npos) {
    malformed(std::string("unexpected root element <") + root.name() + ">");
  }
  pugi::xml_node result = member(root, "GetMetricDataResult");
  if (!result) malformed("no GetMetricDataResult");
  MetricDataPage page;
  page.next_token = member(result, "NextToken").text().as_string();
  pugi::xml_node results = member(result, "MetricDataResults");
  bool found = false;
  for (pugi::xml_node m : members(results)) {
    if (std::string_view(member(m, "Id").text().as_string()) != kQueryId) continue;
    found = true;
    page.status_code = member(m, "StatusCode").text().as_string();
    std::vector<pugi::xml_node> ts = members(member(m, "Timestamps"));
    std::vector<pugi::xml_node> vs = members(member(m, "Values"));
    if (ts.size() != vs.size()) {
      malformed(std::to_string(ts.size()) + " timestamps but " + std::to_string(vs.size()) +
                " values");
    }
    for (size_t i = 0; i < ts.size(); ++i) {
      const std::string t = ts[i].text().as_string();
      std::optional<int64_t> when = parse_time(t);
      if (!when) malformed("timestamp \"" + t + "\" is not RFC 3339");
      page.points.push_back({*when, parse_double(vs[i].text().as_string())});
    }
  }
  // An empty MetricDataResults is a legal page when a NextToken follows; otherwise our query
  // must be answered.
  if (!found && page.next_token.empty()) malformed("no result for query " + std::string(kQueryId));
  return page;
}

std::vector<Datapoint> get_metric_data(aws::AwsClient& client, const MetricQuery& query,
                                       int max_pages) {
  std::vector<Datapoint> all;
  std::string token;
  for (int page_no = 0; page_no < max_pages; ++page_no) {
    MetricDataPage page =
        parse_get_metric_data(client.cloudwatch("GetMetricData", get_metric_data_params(query, token)));
    all.insert(all.end(), page.points.begin(), page.points.end());
    if (page.next_token.empty()) return all;
    if (page.next_token == token) malformed("NextToken repeated");
    token = std::move(page.next_token);
  }
  throw Error(ErrorKind::kParse,
              "GetMetricData: still paging after " + std::to_string(max_pages) + " requests");
}

}  // namespace ttla::cloudwatch
