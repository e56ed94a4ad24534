#include "sources/sqs_kind.h"
#include "sources/sqs_source.h"

#include <chrono>
#include <cstdlib>

#include <nlohmann/json.hpp>
#include "core/log.h"

#include "core/error.h"
#include "core/time.h"
#include "sources/aws_target.h"
#include "sources/deletion_rate.h"

namespace ttla {
namespace sqs {

cloudwatch::MetricQuery oldest_age_query(const std::string& queue_name, int64_t as_of) {
  constexpr int64_t kPeriod = 60;
  cloudwatch::MetricQuery q;
  q.metric_namespace = "AWS/SQS";
  q.metric_name = "ApproximateAgeOfOldestMessage";
  q.dimensions = {{"QueueName", queue_name}};
  q.stat = "Maximum";
  q.period_seconds = kPeriod;
  // The minute holding as_of is included (end is exclusive).
  q.end = (as_of >= 0 ? as_of / kPeriod : (as_of - kPeriod + 1) / kPeriod) * kPeriod + kPeriod;
  q.start = q.end - 3600 - kPeriod;
  return q;
}

std::optional<cloudwatch::Datapoint> latest_point(const std::vector<cloudwatch::Datapoint>& points,
                                                  int64_t as_of) {
  std::optional<cloudwatch::Datapoint> best;
  for (const auto& p : points) {
    if (p.timestamp > as_of) continue;
    if (!best || p.timestamp > best->timestamp) best = p;
  }
  return best;
}

}  // namespace sqs

namespace {

class SqsSource final : public Source {
 public:
  explicit SqsSource(SqsSourceOptions options) : options_(std::move(options)) {}

  TargetReport audit(const TargetConfig& target, const RunContext& ctx) override {
    const auto started = std::chrono::steady_clock::now();
    if (sqs_config(target).queue_url.empty() && sqs_config(target).queue.empty()) {
      throw Error(ErrorKind::kConfig, "sqs target needs queue_url or queue");
    }
    std::optional<sqs::QueueRef> from_url;
    if (!sqs_config(target).queue_url.empty()) from_url = sqs::parse_queue_url(sqs_config(target).queue_url);

    aws::TargetAccess access = aws_access(target, "sqs");
    // The queue URL's host names the queue's region; an explicit `region` still wins.
    if (access.region.empty() && from_url) access.region = from_url->region;
    aws::ServiceConfig service = aws::target_service(access, options_.http, options_.retry);
    auto credentials = aws::target_credentials(access, service.region, options_.credentials);
    aws::CallStats call_stats;
    aws::AwsClient client(service, credentials, &call_stats);

    // Which queue: the configured URL, else the name resolved by GetQueueUrl.
    sqs::QueueRef queue = from_url ? *from_url
                                   : sqs::parse_queue_url(sqs::parse_get_queue_url(client.sqs(
                                         "GetQueueUrl",
                                         sqs::get_queue_url_body(sqs_config(target).queue, sqs_config(target).queue_account))));
    // Depth.
    const sqs::QueueDepth depth = sqs::parse_get_queue_attributes(
        client.sqs("GetQueueAttributes", sqs::get_queue_attributes_body(queue.url)));

    TargetReport report;
    report.name = target.name;
    report.kind = "sqs";
    report.has_expired = false;  // no message is read: no deadlines, no overdue figures
    report.scan.mode = "full";
    nlohmann::json section = {{"queue_url", queue.url},
                              {"queue_name", queue.name},
                              {"region", service.region},
                              {"messages",
                               {{"visible", depth.visible},
                                {"in_flight", depth.in_flight},
                                {"delayed", depth.delayed}}}};
    // Age of the oldest message: CloudWatch only (SQS has no attribute for it).
    if (sqs_config(target).cloudwatch) add_oldest_age(section, target, service, credentials, queue, ctx.as_of);
    report.extra["sqs"] = std::move(section);
    report.scan.requests = call_stats.requests.load();
    report.scan.duration_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    log::debug("sqs audit done", Fields()
            .add("source", "sqs")
            .add("target", target.name)
            .add("queue", queue.name)
            .add("visible", depth.visible)
            .add("in_flight", depth.in_flight)
            .add("delayed", depth.delayed));
    return report;
  }

 private:
  // A CloudWatch failure does not fail the audit (the depth stands on its own): the section then
  // says why and no age is reported, as when CloudWatch has no datapoint.
  static void add_oldest_age(nlohmann::json& section, const TargetConfig& target,
                             const aws::ServiceConfig& sqs_service,
                             std::shared_ptr<aws::CredentialsProvider> credentials,
                             const sqs::QueueRef& queue, int64_t as_of) {
    const cloudwatch::MetricQuery q = sqs::oldest_age_query(queue.name, as_of);
    nlohmann::json age = {{"source", "cloudwatch"},
                          {"metric", "AWS/SQS ApproximateAgeOfOldestMessage"},
                          {"period_seconds", q.period_seconds},
                          {"window_start", format_rfc3339(q.start)},
                          {"window_end", format_rfc3339(q.end)}};
    try {
      aws::AwsClient cw(cloudwatch_service_for(target, sqs_service), std::move(credentials));
      const auto point = sqs::latest_point(cloudwatch::get_metric_data(cw, q), as_of);
      if (point) {
        section["oldest_message_age_seconds"] = point->value;
        age["at"] = format_rfc3339(point->timestamp);
      } else {
        age["note"] = "no datapoint in the window";
      }
    } catch (const Error& e) {
      log::warn("cloudwatch oldest message age unavailable", Fields().add("target",
                   target.name).add("queue", queue.name).add("error", e.what()));
      age["error"] = std::string(to_string(e.kind())) + ": " + e.what();
    }
    section["oldest_message_age"] = std::move(age);
  }

  SqsSourceOptions options_;
};

}  // namespace

std::unique_ptr<Source> make_sqs_source(SqsSourceOptions options) {
  return std::make_unique<SqsSource>(std::move(options));
}

std::unique_ptr<Source> make_sqs_source() { return make_sqs_source(SqsSourceOptions{}); }

}  // namespace ttla
