// kind: sqs — its row of the kind table: config keys and readers, required keys, IAM statements,
// help and rules. The audit itself is in sqs_source.cc.
#include <regex>

#include "core/time.h"
#include "sources/sqs_kind.h"
#include "sources/kinds.h"
#include "sources/sqs_source.h"

namespace ttla {

namespace {

using Own = SqsTargetConfig;
Own& own(TargetConfig& t) { return sqs_config(t); }

// A non-empty string matching `pattern`; otherwise the error `message` words from the value.
TargetKey matching(const OwnKeys<Own>& k, const char* key, const char* pattern,
                   std::string Own::*field, std::string (*message)(const std::string&)) {
  return k.read(key, [pattern, field, message](Validator& v, const YAML::Node& n,
                                               const std::string& p, Own& c) {
    auto s = v.non_empty_string(n, p);
    if (!s) return;
    const std::regex re(pattern);
    if (!std::regex_match(*s, re)) {
      v.error(p, message(*s));
      return;
    }
    c.*field = *s;
  });
}

std::vector<TargetKey> keys() {
  const OwnKeys<Own> k{own};
  return {
      matching(k, "queue_url", R"(https?://[^/\s]+/[0-9A-Za-z]+/[A-Za-z0-9_-]{1,80}(\.fifo)?/?)",
               &Own::queue_url,
               [](const std::string& s) {
                 return "expected a queue URL like https://sqs.us-east-1.amazonaws.com/123456789012/name, got \"" +
                        s + "\"";
               }),
      matching(k, "queue", "[A-Za-z0-9_-]{1,80}(\\.fifo)?", &Own::queue,
               [](const std::string& s) {
                 return "invalid queue name \"" + s + "\" (1-80 letters, digits, - and _, optional .fifo)";
               }),
      matching(k, "account", "[0-9]{12}", &Own::queue_account,
               [](const std::string& s) { return "expected a 12-digit AWS account id, got \"" + s + "\""; }),
      common_key("region"),
      common_key("endpoint_url"),
      common_key("profile"),
      common_key("role_arn"),
      common_key("external_id"),
      k.flag("cloudwatch", &Own::cloudwatch),
      common_key("cloudwatch_endpoint_url"),
      common_key("request_timeout"),
      common_key("connect_timeout"),
  };
}

void check_required(Validator& v, const KeyPresent& present, const std::string& path) {
  const bool has_url = present("queue_url");
  if (has_url && present("queue")) {
    v.error(path, "\"queue_url\" and \"queue\" are mutually exclusive (kind sqs)");
  } else if (!has_url && !present("queue")) {
    v.error(path, "kind sqs needs \"queue_url\", or \"queue\" (a name resolved with GetQueueUrl)");
  } else if (has_url && present("account")) {
    v.error(path, "\"account\" goes with \"queue\"; a queue_url already names its account");
  }
}

// The queue's ARN: account and region from its URL when it names them, else the target's
// `account` / region (or "*").
std::string queue_arn(const TargetConfig& t) {
  const auto& c = sqs_config(t);
  std::string region = iam_region(t), account = c.queue_account.empty() ? "*" : c.queue_account;
  std::string name = c.queue;
  if (!c.queue_url.empty()) {
    const sqs::QueueRef q = sqs::parse_queue_url(c.queue_url);
    if (t.region.empty() && !q.region.empty()) region = q.region;
    account = q.account;
    name = q.name;
  }
  return "arn:" + iam_partition(region) + ":sqs:" + region + ":" + account + ":" + name;
}

// GetQueueAttributes on the queue (GetQueueUrl when named), CloudWatch for the oldest message's
// age (ApproximateAgeOfOldestMessage; off with `cloudwatch: false`).
void iam(const TargetConfig& t, const Config&, IamGrants& g) {
  const auto& c = sqs_config(t);
  const std::string arn = queue_arn(t);
  g.wildcard_region = g.wildcard_region || arn.find(":sqs:*:") != std::string::npos;
  g.allow("SqsReadQueueDepth", {"sqs:GetQueueAttributes"}, arn);
  if (c.queue_url.empty()) g.allow("SqsResolveQueueUrls", {"sqs:GetQueueUrl"}, arn);
  if (c.cloudwatch) g.allow("CloudWatchReadMetrics", {"cloudwatch:GetMetricData"}, "*");
}

}  // namespace

const Kind& sqs_kind() {
  static const Kind kind = [] {
    Kind k;
    k.name = "sqs";
    k.help = "SQS queue depth (dead-letter queues): message counts and oldest age, no message read";
    k.make = [] { return make_sqs_source(); };
    k.config = {"sqs", keys(), check_required, nullptr, [](TargetConfig& t) { t.kind_config<SqsTargetConfig>(); }};
    k.reports_expiry = false;
    k.iam = iam;
    k.rules = {{"dlq_depth", "warning", ""}, {"dlq_depth", "critical", ""}};
    return k;
  }();
  return kind;
}

}  // namespace ttla
