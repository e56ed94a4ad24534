#include "aws/aws_client.h"

#include "core/log.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "aws/endpoints.h"
#include "aws/error_body.h"
#include "aws/sigv4.h"
#include "aws/url.h"
#include "core/error.h"

namespace ttla::aws {
namespace {

using Clock = std::chrono::steady_clock;
using QueryParams = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kDynamoDbTargetPrefix = "DynamoDB_20120810.";
constexpr std::string_view kDynamoDbStreamsTargetPrefix = "DynamoDBStreams_20120810.";
constexpr std::string_view kCloudWatchVersion = "2010-08-01";

bool in_list(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

std::string dns_suffix(const std::string& region) { return partition_of(region).dns_suffix; }

// Rejections that mean "your clock is off", as the SDKs recognise them.
bool is_clock_skew_error(const std::string& code, const std::string& message) {
  if (code == "RequestTimeTooSkewed" || code == "RequestExpired" || code == "RequestInTheFuture") {
    return true;
  }
  return (code == "InvalidSignatureException" || code == "SignatureDoesNotMatch" ||
          code == "AuthFailure") &&
         message.find("Signature expired") != std::string::npos;
}

// RFC 7231 IMF-fixdate ("Wed, 02 Dec 2026 04:16:14 GMT") -> epoch seconds.
std::optional<int64_t> parse_http_date(const std::string& text) {
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char wday[4] = {0}, mon[4] = {0}, zone[4] = {0};
  int day = 0, year = 0, h = 0, m = 0, sec = 0;
  if (std::sscanf(text.c_str(), "%3s, %d %3s %d %d:%d:%d %3s", wday, &day, mon, &year, &h, &m, &sec,
                  zone) != 8) {
    return std::nullopt;
  }
  int month = -1;
  for (int i = 0; i < 12; ++i) {
    if (std::string_view(mon) == months[i]) month = i;
  }
  if (month < 0 || std::string_view(zone) != "GMT" || day < 1 || day > 31 || h > 23 || m > 59 ||
      sec > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month;
  tm.tm_mday = day;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  return static_cast<int64_t>(timegm(&tm));
}

struct Endpoint {
  std::string scheme;     // "https"
  std::string authority;  // "host[:port]", sent as Host and signed
  std::string base_path;  // "" or "/prefix" (no trailing '/')
};

Endpoint parse_endpoint(const std::string& url) {
  if (url.find("://") == std::string::npos) {
    throw Error(ErrorKind::kConfig, "endpoint_url must start with http:// or https://: " + url);
  }
  std::optional<Url> parsed = parse_url(url);
  if (!parsed) throw Error(ErrorKind::kConfig, "endpoint_url is not a valid URL: " + url);
  if (parsed->scheme != "http" && parsed->scheme != "https") {
    throw Error(ErrorKind::kConfig, "endpoint_url scheme must be http or https: " + url);
  }
  Endpoint e;
  e.scheme = parsed->scheme;
  // A default port is not part of the Host header a client sends (nor of what is signed).
  e.authority = parsed->authority();
  e.base_path = parsed->path;
  while (!e.base_path.empty() && e.base_path.back() == '/') e.base_path.pop_back();
  return e;
}

std::string encode_query(const QueryParams& query) {
  std::string out;
  for (const auto& [name, value] : query) {
    if (!out.empty()) out.push_back('&');
    out.append(sigv4::uri_encode(name, true)).append("=").append(sigv4::uri_encode(value, true));
  }
  return out;
}

// x-amz-retry-after is in milliseconds (the AWS SDKs' reading); Retry-After in seconds.
std::optional<double> retry_after_of(const HttpResponse& r) {
  auto parse = [](const std::string* v, double scale) -> std::optional<double> {
    if (v == nullptr || v->empty()) return std::nullopt;
    char* end = nullptr;
    double d = std::strtod(v->c_str(), &end);
    if (end == v->c_str() || d < 0) return std::nullopt;
    return d * scale;
  };
  if (auto v = parse(r.header("x-amz-retry-after"), 0.001)) return v;
  return parse(r.header("retry-after"), 1.0);
}

bool is_auth_failure(long status, const std::string& code) {
  if (status == 401 || status == 403) return true;
  return code == "UnrecognizedClientException" || code == "SignatureDoesNotMatch" ||
         code.rfind("AccessDenied", 0) == 0 || code == "InvalidAccessKeyId" ||
         code == "InvalidClientTokenId" || code.rfind("ExpiredToken", 0) == 0 ||
         code == "MissingAuthenticationToken" || code == "InvalidSignatureException" ||
         code == "IncompleteSignature" || code == "AuthFailure";
}

std::string transport_kind_name(TransportError::Kind k) {
  switch (k) {
    case TransportError::Kind::kDns: return "dns";
    case TransportError::Kind::kConnect: return "connect";
    case TransportError::Kind::kTimeout: return "timeout";
    case TransportError::Kind::kTls: return "tls";
    case TransportError::Kind::kReset: return "reset";
    case TransportError::Kind::kTooLarge: return "too_large";
    case TransportError::Kind::kOther: return "other";
    case TransportError::Kind::kAborted: return "aborted";
  }
  return "other";
}

// The retry log's reason: throttle, 5xx, timeout or connection_error.
std::string retry_reason(RetryClass cls, const HttpResponse* response, bool timeout) {
  if (response == nullptr) return timeout ? "timeout" : "connection_error";
  if (cls == RetryClass::kThrottling) return "throttle";
  if (response->status >= 500) return "5xx";
  return "http_" + std::to_string(response->status);
}

// Backoff that ends early when the target is told to stop.
void sleep_unless_aborted(double seconds, const std::atomic<bool>* abort) {
  using Steady = std::chrono::steady_clock;
  const Steady::time_point until =
      Steady::now() + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(seconds));
  while (Steady::now() < until) {
    if (abort != nullptr && abort->load()) return;
    const Steady::duration left = until - Steady::now();
    std::this_thread::sleep_for(std::min<Steady::duration>(std::chrono::milliseconds(50), left));
  }
}

// What one logical call needs; everything except signing inputs is for logs and errors.
struct Call {
  std::string service;    // signing name: "dynamodb", "s3", "monitoring"
  std::string operation;  // for logs: "Scan", "GET", "GetMetricData"
  Endpoint endpoint;
  sigv4::Request request;  // path is the wire path, query decoded
  bool s3 = false;
};

// The JSON 1.0 protocol DynamoDB and SQS share: POST / with X-Amz-Target <prefix><operation>.
Call json_call(std::string service, std::string_view target_prefix, std::string_view operation,
               const Endpoint& endpoint, std::string_view json_body) {
  Call call;
  call.service = std::move(service);
  call.operation = std::string(operation);
  call.endpoint = endpoint;
  call.request.method = "POST";
  call.request.path = call.endpoint.base_path + "/";
  call.request.headers = {{"host", call.endpoint.authority},
                          {"content-type", "application/x-amz-json-1.0"},
                          {"x-amz-target", std::string(target_prefix) + call.operation}};
  call.request.body = std::string(json_body);
  return call;
}

}  // namespace

const std::vector<std::string>& allowed_dynamodb_operations() {
  static const std::vector<std::string> ops = {
      "DescribeTable", "DescribeTimeToLive", "DescribeContinuousBackups", "ListTables",
      "Scan",          "Query",              "GetItem",                   "BatchGetItem"};
  return ops;
}

bool is_allowed_dynamodb_operation(std::string_view operation) {
  return in_list(allowed_dynamodb_operations(), operation);
}

bool is_allowed_dynamodb_streams_operation(std::string_view operation) {
  return operation == "DescribeStream" || operation == "GetShardIterator" ||
         operation == "GetRecords" || operation == "ListStreams";
}

bool is_allowed_s3_method(std::string_view method) { return method == "GET" || method == "HEAD"; }

bool is_allowed_sts_operation(std::string_view operation) {
  return operation == "AssumeRole" || operation == "AssumeRoleWithWebIdentity";
}

bool is_allowed_cloudwatch_operation(std::string_view operation) {
  return operation == "GetMetricData";
}

bool is_allowed_sqs_operation(std::string_view operation) {
  return operation == "GetQueueAttributes" || operation == "GetQueueUrl";
}

struct AwsClient::Impl {
  Impl(const ServiceConfig& config, std::shared_ptr<CredentialsProvider> creds, CallStats* s)
      : http(config.http), abort(config.http.abort), retry(config.retry), credentials(std::move(creds)), stats(s),
        clock_offset(config.clock_offset ? config.clock_offset
                                         : std::make_shared<std::atomic<int64_t>>(0)) {}

  HttpClient http;
  const std::atomic<bool>* abort = nullptr;
  RetryPolicy retry;
  std::shared_ptr<CredentialsProvider> credentials;
  CallStats* stats;
  std::shared_ptr<std::atomic<int64_t>> clock_offset;

  // What one logical call carries from one attempt to the next.
  struct CallState {
    Clock::time_point start = Clock::now();
    bool last_was_timeout = false;
    bool skew_corrected = false;
  };

  // One attempt: what came back, when, and how it was classified.
  struct Attempt {
    int number = 0;
    HttpRequest request;
    HttpResult result;
    double ms = 0;       // this attempt
    double elapsed = 0;  // since the call's first attempt
    RetryClass cls = RetryClass::kNone;
    std::optional<double> retry_after;
    bool timeout = false;
    std::string failure;
    const HttpResponse* response() const { return std::get_if<HttpResponse>(&result); }
  };

  // Signs and sends with retries. Returns the final response; `final_class` says how the last
  // attempt was classified (kNone on 2xx). Throws kNetwork/kThrottled itself; the caller turns
  // other non-2xx answers into errors (S3 passes most of them through).
  HttpResponse execute(const Call& call, const std::string& region, RetryClass* final_class) {
    CallState state;
    for (int number = 1;; ++number) {
      Attempt a = send(call, region, number, state);
      if (a.response() == nullptr) {
        classify_transport_error(call, a);
      } else {
        const std::string code = classify_response(call, a);
        if (correct_clock_skew(call, a, code, state)) continue;  // re-signed with the server's time
        if (a.cls == RetryClass::kNone || a.cls == RetryClass::kFatal) {
          if (a.cls == RetryClass::kNone) retry.on_success(number, state.last_was_timeout);
          *final_class = a.cls;
          return std::move(std::get<HttpResponse>(a.result));
        }
        a.failure = describe_error(a.response()->status, a.response()->body);
      }
      if (a.cls == RetryClass::kThrottling && stats != nullptr) ++stats->throttles;
      std::optional<double> delay =
          retry.next_delay(number, a.cls, a.elapsed, a.retry_after, a.timeout);
      if (!delay) return give_up(call, a, final_class);
      wait_before_retry(call, a, *delay, state);
    }
  }

  // Signs the call with the current credentials and clock and builds its HTTP request.
  HttpRequest signed_request(const Call& call, const std::string& region) {
    Credentials creds = credentials->get();  // per attempt: temporary credentials refresh
    sigv4::Options o;
    o.region = region;
    o.service = call.service;
    o.epoch_seconds = static_cast<int64_t>(std::time(nullptr)) + clock_offset->load();
    o.s3_rules = call.s3;
    // Signed payload for S3 too: our GET/HEAD bodies are empty, so it costs nothing.
    sigv4::Signed s = sigv4::sign(call.request, creds, o);

    HttpRequest req;
    req.method = call.request.method;
    req.url = call.endpoint.scheme + "://" + call.endpoint.authority + call.request.path;
    if (!call.request.query.empty()) req.url += "?" + encode_query(call.request.query);
    req.headers = call.request.headers;
    for (const auto& h : s.added_headers) req.headers.push_back(h);
    req.body = call.request.body;
    return req;
  }

  // Sends one signed attempt and times it.
  Attempt send(const Call& call, const std::string& region, int number, const CallState& state) {
    Attempt a;
    a.number = number;
    a.request = signed_request(call, region);
    if (stats != nullptr) ++stats->requests;
    auto t0 = Clock::now();
    a.result = http.perform(a.request);
    a.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    a.elapsed = std::chrono::duration<double>(Clock::now() - state.start).count();
    return a;
  }

  // Classifies a transport failure and logs it; throws at once for what no retry can heal.
  void classify_transport_error(const Call& call, Attempt& a) {
    const auto& te = std::get<TransportError>(a.result);
    a.timeout = te.kind == TransportError::Kind::kTimeout;
    a.cls = classify(true, 0, "");
    a.failure = "transport " + transport_kind_name(te.kind) + ": " + te.message;
    // Never the URL's query or any header: only where and what.
    auto transport_fields = [&] {
      return Fields()
          .add("service", call.service)
          .add("method", a.request.method)
          .add("host", call.endpoint.authority)
          .add("op", call.operation)
          .add("status", "error")
          .add("error", transport_kind_name(te.kind))
          .add("attempt", a.number)
          .add("ms", a.ms, 1);
    };
    if (te.kind == TransportError::Kind::kDns || te.kind == TransportError::Kind::kTls ||
        te.kind == TransportError::Kind::kAborted) {
      // A name that does not resolve or a certificate that does not verify will not heal
      // within a retry's backoff: fail now, with its own reason. Aborted: the target was
      // told to stop (max_duration, signal).
      log::debug("aws_request", transport_fields().add("retry", "no"));
      throw Error(ErrorKind::kNetwork, a.failure + " [" + call.service + " " + call.operation +
                                           " to " + call.endpoint.authority +
                                           ", not retried]");
    }
    log::debug("aws_request", transport_fields());
  }

  // Classifies an HTTP answer and logs it; returns its AWS error code ("" below 300).
  std::string classify_response(const Call& call, Attempt& a) {
    const HttpResponse& response = *a.response();
    std::string code = response.status >= 300 ? aws_error_code(response.body) : "";
    a.cls = classify(false, response.status, code);
    a.retry_after = retry_after_of(response);
    log::debug("aws_request", Fields()
            .add("service", call.service)
            .add("method", a.request.method)
            .add("host", call.endpoint.authority)
            .add("op", call.operation)
            .add("status", response.status)
            .add("code", code.empty() ? "-" : code)
            .add("attempt", a.number)
            .add("ms", a.ms, 1));
    return code;
  }

  // Once per call, adopts the server's clock when it rejected ours; true to re-sign at once.
  bool correct_clock_skew(const Call& call, const Attempt& a, const std::string& code,
                          CallState& state) {
    const HttpResponse& response = *a.response();
    if (state.skew_corrected || response.status < 400 ||
        !is_clock_skew_error(code, aws_error_message(response.body))) {
      return false;
    }
    const std::string* date = response.header("date");
    std::optional<int64_t> server = date ? parse_http_date(*date) : std::nullopt;
    if (!server) return false;
    const int64_t offset = *server - static_cast<int64_t>(std::time(nullptr));
    clock_offset->store(offset);
    state.skew_corrected = true;
    log::warn("aws clock_skew_corrected", Fields()
            .add("service", call.service)
            .add("host", call.endpoint.authority)
            .add("code", code)
            .add("offset_s", offset)
            .add("server_date", *date));
    return true;
  }

  // The policy allows no more attempts: throws for transport errors and throttling, else
  // returns the last (transient 5xx) response.
  HttpResponse give_up(const Call& call, Attempt& a, RetryClass* final_class) {
    std::string where = " [" + call.service + " " + call.operation + " to " +
                        call.endpoint.authority + ", " + std::to_string(a.number) +
                        (a.number == 1 ? " attempt]" : " attempts]");
    if (a.response() == nullptr) throw Error(ErrorKind::kNetwork, a.failure + where);
    if (a.cls == RetryClass::kThrottling) throw Error(ErrorKind::kThrottled, a.failure + where);
    // Transient 5xx that outlasted the policy.
    *final_class = a.cls;
    return std::move(std::get<HttpResponse>(a.result));
  }

  // Counts and logs a retry, then sleeps its backoff (cut short when the target is stopped).
  void wait_before_retry(const Call& call, const Attempt& a, double delay, CallState& state) {
    if (stats != nullptr) ++stats->retries;
    state.last_was_timeout = a.timeout;
    // Every retry is visible at the default level: a hung or throttling endpoint otherwise
    // costs minutes with nothing in the log.
    log::warn("aws retry", Fields()
            .add("service", call.service)
            .add("host", call.endpoint.authority)
            .add("op", call.operation)
            .add("attempt", a.number)
            .add("reason", retry_reason(a.cls, a.response(), a.timeout))
            .add("delay_s", delay, 2)
            .add("error", a.failure));
    sleep_unless_aborted(delay, abort);
  }

  // For the JSON/Query protocols every non-2xx after retries is an error.
  std::string expect_2xx(const Call& call, const std::string& region) {
    RetryClass cls = RetryClass::kNone;
    HttpResponse r = execute(call, region, &cls);
    if (r.status >= 200 && r.status < 300) return std::move(r.body);
    std::string code = aws_error_code(r.body);
    ErrorKind kind = is_auth_failure(r.status, code) ? ErrorKind::kAuth : ErrorKind::kHttp;
    throw Error(kind, describe_error(r.status, r.body));
  }
};

AwsClient::AwsClient(ServiceConfig config, std::shared_ptr<CredentialsProvider> credentials,
                     CallStats* stats)
    : config_(std::move(config)),
      impl_(std::make_unique<Impl>(config_, std::move(credentials), stats)) {
  if (config_.region.empty()) throw Error(ErrorKind::kConfig, "AWS region is not set");
}

AwsClient::~AwsClient() = default;

std::string AwsClient::dynamodb(std::string_view operation, std::string_view json_body) {
  if (!is_allowed_dynamodb_operation(operation)) {
    throw Error(ErrorKind::kForbidden,
                "refusing DynamoDB " + std::string(operation) +
                    ": ttl-auditor is read-only and only sends Describe/List/Scan/Query/Get "
                    "operations");
  }
  const Endpoint endpoint = parse_endpoint(
      config_.endpoint_url.empty()
          ? "https://dynamodb." + config_.region + "." + dns_suffix(config_.region)
          : config_.endpoint_url);
  return impl_->expect_2xx(
      json_call("dynamodb", kDynamoDbTargetPrefix, operation, endpoint, json_body), config_.region);
}

std::string AwsClient::dynamodb_streams(std::string_view operation, std::string_view json_body) {
  if (!is_allowed_dynamodb_streams_operation(operation)) {
    throw Error(ErrorKind::kForbidden, "refusing DynamoDB Streams " + std::string(operation) +
                                           ": ttl-auditor only reads stream records");
  }
  const Endpoint endpoint = parse_endpoint(config_.endpoint_url.empty()
                                               ? public_endpoint("dynamodb_streams", config_.region)
                                               : config_.endpoint_url);
  return impl_->expect_2xx(
      json_call("dynamodb", kDynamoDbStreamsTargetPrefix, operation, endpoint, json_body),
      config_.region);
}

void AwsClient::recycle(std::string&& body) { impl_->http.recycle(std::move(body)); }

std::string AwsClient::sqs(std::string_view operation, std::string_view json_body) {
  if (!is_allowed_sqs_operation(operation)) {
    throw Error(ErrorKind::kForbidden, "refusing SQS " + std::string(operation) +
                                           ": ttl-auditor only reads queue attributes");
  }
  const Endpoint endpoint = parse_endpoint(
      config_.endpoint_url.empty() ? public_endpoint("sqs", config_.region) : config_.endpoint_url);
  return impl_->expect_2xx(json_call("sqs", "AmazonSQS.", operation, endpoint, json_body),
                           config_.region);
}

HttpResponse AwsClient::s3(std::string_view method, std::string_view bucket, std::string_view key,
                           const std::vector<std::pair<std::string, std::string>>& query) {
  if (!is_allowed_s3_method(method)) {
    throw Error(ErrorKind::kForbidden, "refusing S3 " + std::string(method) +
                                           ": ttl-auditor is read-only and only sends GET/HEAD");
  }
  Call call;
  call.service = "s3";
  call.operation = std::string(method);
  call.s3 = true;
  std::string wire_key = sigv4::uri_encode(key, false);
  bool path_style = config_.s3_path_style.value_or(!config_.endpoint_url.empty()) ||
                    bucket.find('.') != std::string_view::npos || bucket.empty();
  if (!config_.endpoint_url.empty()) {
    call.endpoint = parse_endpoint(config_.endpoint_url);
    if (!path_style) call.endpoint.authority = std::string(bucket) + "." + call.endpoint.authority;
  } else if (path_style) {
    call.endpoint = parse_endpoint("https://s3." + config_.region + "." + dns_suffix(config_.region));
  } else {
    call.endpoint = parse_endpoint("https://" + std::string(bucket) + ".s3." + config_.region + "." +
                                   dns_suffix(config_.region));
  }
  std::string path = call.endpoint.base_path;
  if (path_style && !bucket.empty()) path += "/" + sigv4::uri_encode(bucket, true);
  if (!key.empty()) path += "/" + wire_key;
  if (path.empty()) path = "/";
  call.request.method = std::string(method);
  call.request.path = path;
  call.request.query = query;
  call.request.headers = {{"host", call.endpoint.authority}};

  RetryClass cls = RetryClass::kNone;
  HttpResponse r = impl_->execute(call, config_.region, &cls);
  if (r.status == 401 || r.status == 403) {
    std::string code = aws_error_code(r.body);
    // HEAD answers carry no body: name the likely causes instead of an empty code.
    std::string text = r.body.empty()
                           ? "AccessDenied: S3 refused " + std::string(method) + " " + path +
                                 " (bad signature, wrong secret or missing permission) (HTTP " +
                                 std::to_string(r.status) + ")"
                           : describe_error(r.status, r.body);
    throw Error(ErrorKind::kAuth, text);
  }
  return r;
}

namespace {

// The query protocol STS and CloudWatch share: a form-encoded POST to "/" with Action and Version.
Call query_call(std::string service, std::string_view action, std::string_view version,
                const Endpoint& endpoint,
                const std::vector<std::pair<std::string, std::string>>& params) {
  Call call;
  call.service = std::move(service);
  call.operation = std::string(action);
  call.endpoint = endpoint;
  QueryParams form = {{"Action", std::string(action)}, {"Version", std::string(version)}};
  form.insert(form.end(), params.begin(), params.end());
  call.request.method = "POST";
  call.request.path = call.endpoint.base_path + "/";
  call.request.headers = {{"host", call.endpoint.authority},
                          {"content-type", "application/x-www-form-urlencoded; charset=utf-8"}};
  call.request.body = encode_query(form);
  return call;
}

}  // namespace

std::string AwsClient::sts(std::string_view action,
                           const std::vector<std::pair<std::string, std::string>>& params) {
  if (!is_allowed_sts_operation(action)) {
    throw Error(ErrorKind::kForbidden, "refusing STS " + std::string(action) +
                                           ": ttl-auditor only asks STS for credentials");
  }
  const Endpoint endpoint = parse_endpoint(
      config_.endpoint_url.empty() ? public_endpoint("sts", config_.region) : config_.endpoint_url);
  return impl_->expect_2xx(query_call("sts", action, "2011-06-15", endpoint, params),
                           config_.region);
}

std::string AwsClient::cloudwatch(std::string_view action,
                                  const std::vector<std::pair<std::string, std::string>>& params) {
  if (!is_allowed_cloudwatch_operation(action)) {
    throw Error(ErrorKind::kForbidden, "refusing CloudWatch " + std::string(action) +
                                           ": ttl-auditor only sends GetMetricData");
  }
  const Endpoint endpoint = parse_endpoint(
      config_.endpoint_url.empty() ? public_endpoint("cloudwatch", config_.region)
                                   : config_.endpoint_url);
  return impl_->expect_2xx(
      query_call("monitoring", action, kCloudWatchVersion, endpoint, params), config_.region);
}

}  // namespace ttla::aws
