// The s3 source end to end against moto's server (scripts/servers/moto.sh), a second S3
// implementation beside Swift that stores lifecycle configurations and answers with its own
// document shapes (<GetBucketVersioningResponse>, reordered rule members, <Filter/>).
// Buckets are written test-side by tests/tools/s3_moto_fixture.py, which also computes, from
// the listings it reads back and the rules, what the audit must report (its own evaluator,
// written from AWS's documentation, not from the C++). Objects are created "now", so audits run
// with an as-of days ahead to make lifecycle deadlines fall due.
//
// What no server here does is played by a loopback proxy in this file, in front of moto:
// - AWS's region checks: a request signed for a region other than the bucket's gets 301
//   PermanentRedirect with x-amz-bucket-region, or 400 AuthorizationHeaderMalformed naming the
//   <Region>, or a 400 naming nothing (then HeadBucket's x-amz-bucket-region tells); requests
//   signed for the right region are forwarded to moto;
// - size filters: moto 5 drops ObjectSizeGreaterThan/LessThan from the configuration it
//   stores, so for that bucket the proxy answers ?lifecycle with botocore's serialisation of the
//   rules the fixture meant (everything else is moto's).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/run.h"
#include "aws/http_client.h"
#include "config/config.h"
#include "sources/kinds.h"
#include "core/report.h"
#include "core/time.h"
#include "support/require.h"
#include "support/test_http_server.h"

using namespace ttla;

namespace {

constexpr int64_t kDay = 86400;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

std::string run_capture(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    *rc = -1;
    return out;
  }
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  *rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

std::string unique(const std::string& base) {
  static std::atomic<int> n{0};
  return base + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000) +
         "-" + std::to_string(++n);
}

// Runs the fixture writer; returns its JSON or fails the test.
nlohmann::json make_fixture(const std::string& scenario, const std::string& bucket, int64_t as_of,
                            const std::vector<std::string>& prefixes,
                            const std::string& region = "us-east-1",
                            const std::string& extra_args = "") {
  std::string cmd = "/usr/bin/python3 " +
                    shell_quote(std::string(TTLA_SOURCE_DIR) + "/tests/tools/s3_moto_fixture.py") +
                    " " + scenario + " " + bucket + " --as-of " + std::to_string(as_of) +
                    " --region " + region;
  for (const auto& p : prefixes) cmd += " --prefix " + shell_quote(p);
  cmd += " " + extra_args;
  int rc = 0;
  std::string out = run_capture(cmd + " 2>&1", &rc);
  if (rc != 0) {
    ADD_FAILURE() << "fixture writer failed: " << out;
    return {};
  }
  return nlohmann::json::parse(out);
}

Report audit(const std::string& yaml, int64_t as_of) {
  ConfigResult cr = parse_config(yaml, "s3_moto_test");
  if (!cr.config) {
    std::string all;
    for (const auto& e : cr.errors) all += e.str() + "\n";
    ADD_FAILURE() << "config rejected:\n" << all << yaml;
    return {};
  }
  RunOptions o;
  o.as_of = as_of;
  o.seed = 7;
  return run_audit(*cr.config, o);
}

// "p<i>" built by appending: `"p" + std::to_string(i)` trips GCC 12's -Wrestrict false positive
// (bug 105329) at -O2 and above.
std::string target_name(size_t i) {
  std::string name = "p";
  name += std::to_string(i);
  return name;
}

const TargetReport* target(const Report& r, const std::string& name) {
  for (const auto& t : r.targets) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string s3_target(const std::string& name, const std::string& bucket,
                      const std::string& prefix, const std::string& endpoint,
                      const std::string& extra = "") {
  return "  - name: " + name + "\n    kind: s3\n    bucket: " + bucket + "\n    prefix: \"" +
         prefix + "\"\n    region: us-east-1\n    endpoint_url: " + endpoint + "\n" + extra;
}

// Checks one target's report against the fixture's truth for its prefix.
void expect_truth(const TargetReport* t, const nlohmann::json& truth, bool versioned) {
  ASSERT_NE(t, nullptr);
  SCOPED_TRACE(t->name + " truth " + truth.dump());
  ASSERT_EQ(t->status, Status::kOk) << t->error.value_or("");
  const nlohmann::json& s3 = t->extra.at("s3");
  EXPECT_EQ(s3["objects"], truth["objects"]);
  EXPECT_EQ(s3["bytes"], truth["bytes"]);
  EXPECT_EQ(t->stats.expired_count(), truth["expired"].get<uint64_t>());
  EXPECT_EQ(t->stats.expired_bytes(), truth["expired_bytes"].get<uint64_t>());
  EXPECT_EQ(t->stats.class_count(ItemClass::kNotYetExpired),
            truth["not_yet_expired"].get<uint64_t>());
  EXPECT_EQ(s3["lifecycle"], "present");
  EXPECT_EQ(s3["lifecycle_missing"], truth["lifecycle_missing"]);
  EXPECT_EQ(s3["lifecycle_rules_applied"], truth["applied"]);
  EXPECT_EQ(s3["filters_not_evaluated"], truth["not_evaluated"]);
  EXPECT_EQ(s3["lifecycle_rules_disabled"], truth["disabled"]);
  if (truth.contains("tags_read") && truth["not_evaluated"].empty() &&
      s3.contains("tags_read")) {  // an audit with read_tags
    EXPECT_EQ(s3["tags_read"], truth["tags_read"]);
    EXPECT_EQ(s3["tags_unread"], truth["tags_unread"]);
    EXPECT_EQ(s3["tag_filters_evaluated"], truth["tags_unread"] == 0);
  } else {
    EXPECT_EQ(s3["tag_filters_evaluated"], false);
    EXPECT_FALSE(s3.contains("tags_read"));
  }
  ASSERT_TRUE(t->multipart);
  EXPECT_EQ(t->multipart->stale_count, truth["stale_uploads"].get<uint64_t>());
  if (truth["stale_uploads"].get<uint64_t>() > 0) {
    EXPECT_EQ(s3["multipart"]["oldest_stale_bytes"], truth["stale_part_bytes"]);
  }
  EXPECT_EQ(s3["versioning"], versioned ? "Enabled" : "Disabled");
  if (versioned) {
    ASSERT_TRUE(t->noncurrent);
    EXPECT_EQ(t->noncurrent->expired_count, truth["noncurrent_expired"].get<uint64_t>());
    EXPECT_EQ(t->noncurrent->expired_bytes, truth["noncurrent_expired_bytes"].get<uint64_t>());
    EXPECT_EQ(s3["delete_markers_lone"], truth["lone_markers"]);
    EXPECT_EQ(s3["delete_markers_lone_expired"], truth["lone_markers_expired"]);
  } else {
    EXPECT_FALSE(t->noncurrent);
  }
}

// A loopback stand-in for what AWS does and moto does not (see the file comment).
class AwsLikeProxy {
 public:
  enum class Mode { kRedirect301, kMalformedWithRegion, kMalformedBare };
  struct Bucket {
    std::string region;
    Mode mode = Mode::kRedirect301;
    std::string lifecycle_xml;  // served for ?lifecycle when set
  };

  explicit AwsLikeProxy(std::string upstream)
      : upstream_(std::move(upstream)),
        server_([this](const ttla::testing::ReceivedRequest& r) { return handle(r); }) {}

  void add(const std::string& name, Bucket b) {
    std::lock_guard<std::mutex> lock(mu_);
    buckets_[name] = std::move(b);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  // Requests refused for their signing region, per bucket ("GET", "HEAD").
  std::vector<std::string> refused(const std::string& bucket) {
    std::lock_guard<std::mutex> lock(mu_);
    return refused_[bucket];
  }
  // Request targets (path and query as received) for this bucket, in order.
  std::vector<std::string> targets(const std::string& bucket) {
    std::lock_guard<std::mutex> lock(mu_);
    return targets_[bucket];
  }
  // Regions requests to this bucket were signed for, in order.
  std::vector<std::string> signed_regions(const std::string& bucket) {
    std::lock_guard<std::mutex> lock(mu_);
    return signed_[bucket];
  }

 private:
  static std::string signing_region(const std::string& authorization) {
    // AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1/s3/aws4_request, ...
    size_t c = authorization.find("Credential=");
    if (c == std::string::npos) return {};
    std::vector<std::string> parts;
    size_t start = c + 11;
    while (parts.size() < 4) {
      size_t slash = authorization.find('/', start);
      if (slash == std::string::npos) break;
      parts.push_back(authorization.substr(start, slash - start));
      start = slash + 1;
    }
    return parts.size() >= 3 ? parts[2] : std::string();
  }

  ttla::testing::CannedResponse handle(const ttla::testing::ReceivedRequest& r) {
    std::string path = r.target.substr(0, r.target.find('?'));
    std::string query = r.target.find('?') == std::string::npos
                            ? std::string()
                            : r.target.substr(r.target.find('?') + 1);
    std::string bucket = path.substr(1, path.find('/', 1) == std::string::npos
                                            ? std::string::npos
                                            : path.find('/', 1) - 1);
    auto auth = r.headers.find("authorization");
    const std::string region = auth == r.headers.end() ? "" : signing_region(auth->second);
    Bucket b;
    bool known = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = buckets_.find(bucket);
      if (it != buckets_.end()) {
        b = it->second;
        known = true;
        signed_[bucket].push_back(region);
        targets_[bucket].push_back(r.target);
      }
    }
    if (known && region != b.region) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        refused_[bucket].push_back(r.method);
      }
      ttla::testing::CannedResponse out;
      out.headers = {{"Content-Type", "application/xml"}};
      if (r.method == "HEAD") {
        // HeadBucket: no body, the region in a header (AWS answers 301 or 400 this way).
        out.status = b.mode == Mode::kRedirect301 ? 301 : 400;
        out.headers.emplace_back("x-amz-bucket-region", b.region);
        return out;
      }
      if (b.mode == Mode::kRedirect301) {
        out.status = 301;
        out.headers.emplace_back("x-amz-bucket-region", b.region);
        out.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>PermanentRedirect"
                   "</Code><Message>The bucket you are attempting to access must be addressed "
                   "using the specified endpoint. Please send all future requests to this "
                   "endpoint.</Message><Endpoint>" + bucket + ".s3." + b.region +
                   ".amazonaws.com</Endpoint><Bucket>" + bucket +
                   "</Bucket><RequestId>R1</RequestId></Error>";
      } else {
        out.status = 400;
        out.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
                   "AuthorizationHeaderMalformed</Code><Message>The authorization header is "
                   "malformed; the region '" + region + "' is wrong; expecting '" + b.region +
                   "'</Message>" +
                   (b.mode == Mode::kMalformedWithRegion ? "<Region>" + b.region + "</Region>"
                                                         : std::string()) +
                   "<RequestId>R2</RequestId></Error>";
      }
      return out;
    }
    if (known && !b.lifecycle_xml.empty() && r.method == "GET" &&
        (query == "lifecycle" || query == "lifecycle=")) {
      return {200, {{"Content-Type", "application/xml"}}, b.lifecycle_xml};
    }
    return forward(r);
  }

  ttla::testing::CannedResponse forward(const ttla::testing::ReceivedRequest& r) {
    aws::HttpClient http;
    aws::HttpRequest req;
    req.method = r.method;
    req.url = upstream_ + r.target;
    for (const auto& [name, value] : r.headers) {
      if (name == "host" || name == "content-length" || name == "connection" || name == "expect") {
        continue;
      }
      req.headers.emplace_back(name, value);
    }
    req.body = r.body;
    aws::HttpResult result = http.perform(req);
    const auto* resp = std::get_if<aws::HttpResponse>(&result);
    if (resp == nullptr) return {502, {}, "upstream: " + std::get<aws::TransportError>(result).message};
    ttla::testing::CannedResponse out;
    out.status = static_cast<int>(resp->status);
    for (const auto& [name, value] : resp->headers) {
      if (name == "content-length" || name == "transfer-encoding" || name == "connection") continue;
      out.headers.emplace_back(name, value);
    }
    out.body = resp->body;
    return out;
  }

  std::string upstream_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
  std::map<std::string, std::vector<std::string>> refused_;
  std::map<std::string, std::vector<std::string>> signed_;
  std::map<std::string, std::vector<std::string>> targets_;
  ttla::testing::TestHttpServer server_;  // last: stops (joins its threads) before the maps go
};

class S3Moto : public ::testing::Test {
 protected:
  void SetUp() override {
    moto_ = env("TTLA_MOTO_ENDPOINT");
    if (moto_.empty()) {
      TTLA_SKIP_OR_FAIL("TTLA_MOTO_ENDPOINT not set: start scripts/servers/moto.sh start DIR "
                        "(S3 audits on moto NOT run)");
    }
    // The auditor's default chain finds these; never an instance metadata lookup.
    ::setenv("AWS_ACCESS_KEY_ID", "testing", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "testing", 1);
    ::unsetenv("AWS_SESSION_TOKEN");
    ::unsetenv("AWS_PROFILE");
    ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    now_ = static_cast<int64_t>(now_seconds());
  }

  std::string moto_;
  int64_t now_ = 0;
};

TEST_F(S3Moto, LifecycleRuleShapesOnAnUnversionedBucketWithOddKeys) {
  // Rules: Filter.Prefix 1d (+ abort 1d) overlapped by a 9d rule below it, legacy Prefix 2d
  // overlapped by a 30d rule below it, a Disabled rule, Expiration.Date in the past, And{Prefix,
  // Tag}, Tag alone, a 20d rule; keys with spaces, UTF-8, '+', '%', "/./" and "/../"; a stale
  // upload whose key holds "/./../" is sized through ListParts (the path must go out as signed).
  const int64_t as_of = now_ + 3 * kDay;
  const std::string bucket = unique("ttla-shapes");
  const std::vector<std::string> prefixes = {"", "a", "b/long/", "c/", "f/"};
  nlohmann::json fx = make_fixture("shapes", bucket, as_of, prefixes);
  ASSERT_FALSE(fx.is_null());
  std::string yaml = "targets:\n";
  for (size_t i = 0; i < prefixes.size(); ++i) {
    yaml += s3_target(target_name(i), bucket, prefixes[i], moto_);
  }
  // Virtual-hosted addressing on the custom endpoint (bucket.localhost:port) with path_style: false.
  std::string vhost = moto_;
  vhost.replace(vhost.find("127.0.0.1"), 9, "localhost");
  yaml += s3_target("vhost", bucket, "", vhost, "    path_style: false\n");
  // The same audit through a recording proxy, to see the paths on the wire (moto finds an
  // upload by its id whatever key the path names, so it cannot tell a rewritten path).
  AwsLikeProxy proxy(moto_);
  proxy.add(bucket, {"us-east-1", AwsLikeProxy::Mode::kRedirect301, ""});
  yaml += s3_target("proxied", bucket, "a", proxy.url());
  Report report = audit(yaml, as_of);
  for (size_t i = 0; i < prefixes.size(); ++i) {
    expect_truth(target(report, target_name(i)), fx["truth"][prefixes[i]], false);
  }
  expect_truth(target(report, "vhost"), fx["truth"][""], false);
  expect_truth(target(report, "proxied"), fx["truth"]["a"], false);
  // ListParts for the stale upload "a/mp/./../big + \u00e9.bin": the dot segments went out as
  // signed, not squashed by the HTTP library.
  const std::string wire = "/" + bucket + "/a/mp/./../big%20%2B%20%C3%A9.bin?uploadId=";
  bool seen = false;
  for (const auto& t : proxy.targets(bucket)) seen = seen || t.rfind(wire, 0) == 0;
  EXPECT_TRUE(seen) << "no ListParts request to " << wire;

  // The truth is not trivial: something expired, something not yet, a rule overlapped.
  const nlohmann::json& all = fx["truth"][""];
  EXPECT_GT(all["expired"].get<int>(), 0);
  EXPECT_GT(all["not_yet_expired"].get<int>(), 0);
  EXPECT_LT(all["expired"].get<int>() + all["not_yet_expired"].get<int>(), all["objects"].get<int>());
  EXPECT_EQ(all["stale_part_bytes"], 5);
  // b/long/: the 2-day legacy rule fires before the 30-day one (earliest deadline wins).
  EXPECT_EQ(fx["truth"]["b/long/"]["expired"], 3);
  // c/: only a Disabled rule reaches it; a tag rule with the empty prefix could expire it.
  EXPECT_EQ(fx["truth"]["c/"]["expired"], 0);
  EXPECT_EQ(fx["truth"]["c/"]["disabled"], nlohmann::json::array({"c-disabled"}));
}

TEST_F(S3Moto, VersionedBucketNoncurrentVersionsAndLoneDeleteMarkers) {
  const int64_t as_of = now_ + 3 * kDay;
  const std::string bucket = unique("ttla-versioned");
  const std::vector<std::string> prefixes = {"", "v/", "w/"};
  nlohmann::json fx = make_fixture("versioned", bucket, as_of, prefixes);
  ASSERT_FALSE(fx.is_null());
  std::string yaml = "targets:\n";
  for (size_t i = 0; i < prefixes.size(); ++i) {
    yaml += s3_target(target_name(i), bucket, prefixes[i], moto_);
  }
  Report report = audit(yaml, as_of);
  for (size_t i = 0; i < prefixes.size(); ++i) {
    expect_truth(target(report, target_name(i)), fx["truth"][prefixes[i]], true);
  }
  const nlohmann::json& all = fx["truth"][""];
  EXPECT_GT(all["noncurrent_expired"].get<int>(), 0);
  EXPECT_EQ(all["lone_markers"], 1);
  EXPECT_EQ(all["lone_markers_expired"], 1);
  // w/: 10 noncurrent days, not yet; no expiration rule reaches it: lifecycle_missing.
  EXPECT_EQ(fx["truth"]["w/"]["noncurrent_expired"], 0);
  EXPECT_EQ(fx["truth"]["w/"]["lifecycle_missing"], true);
  const TargetReport* w = target(report, "p2");
  ASSERT_NE(w, nullptr);
  bool fired = false;
  for (const auto& a : w->anomalies) fired = fired || a.rule == "lifecycle_missing";
  EXPECT_TRUE(fired);
  // The same audit a day later: the 10-day noncurrent versions are still kept, the rest holds.
  Report later = audit(yaml, as_of + kDay);
  ASSERT_NE(target(later, "p2"), nullptr);
  ASSERT_TRUE(target(later, "p2")->noncurrent);
  EXPECT_EQ(target(later, "p2")->noncurrent->expired_count, 0u);
}

TEST_F(S3Moto, ObjectSizeFiltersAloneAndInAnd) {
  const int64_t as_of = now_ + 3 * kDay;
  const std::string bucket = unique("ttla-sizes");
  const std::vector<std::string> prefixes = {"", "s/", "t/"};
  nlohmann::json fx = make_fixture("sizes", bucket, as_of, prefixes);
  ASSERT_FALSE(fx.is_null());
  AwsLikeProxy proxy(moto_);
  proxy.add(bucket, {"us-east-1", AwsLikeProxy::Mode::kRedirect301,
                     fx["lifecycle_xml"].get<std::string>()});
  std::string yaml = "targets:\n";
  for (size_t i = 0; i < prefixes.size(); ++i) {
    yaml += s3_target(target_name(i), bucket, prefixes[i], proxy.url());
  }
  Report report = audit(yaml, as_of);
  for (size_t i = 0; i < prefixes.size(); ++i) {
    expect_truth(target(report, target_name(i)), fx["truth"][prefixes[i]], false);
  }
  // Strict bounds matter here: sizes 10, 11, 49, 50, 100, 101 sit on them.
  EXPECT_EQ(fx["truth"][""]["expired"], 5);
  EXPECT_EQ(fx["truth"][""]["not_yet_expired"], 2);
  EXPECT_TRUE(proxy.refused(bucket).empty());
}

TEST_F(S3Moto, TagFiltersReportedUnlessReadTagsAsksAndThenWithinItsBudget) {
  // Rules: Tag alone (1d), And{g/, two Tags} (1d) beside g/ (20d); objects tagged in every
  // combination. Without read_tags the tag rules are named, not applied; with a budget large
  // enough every candidate's tags are read; with 2, only the first two (listing order) are.
  const int64_t as_of = now_ + 3 * kDay;
  const std::string bucket = unique("ttla-tags");
  nlohmann::json fx = make_fixture("tags", bucket, as_of, {""}, "us-east-1",
                                   "--tag-budget 100 --tag-budget 2");
  ASSERT_FALSE(fx.is_null());
  std::string yaml = "targets:\n" + s3_target("off", bucket, "", moto_) +
                     s3_target("all", bucket, "", moto_, "    read_tags: 100\n") +
                     s3_target("two", bucket, "", moto_, "    read_tags: 2\n");
  Report report = audit(yaml, as_of);
  expect_truth(target(report, "off"), fx["truth"][""], false);
  expect_truth(target(report, "all"), fx["truth"]["tags:100"], false);
  expect_truth(target(report, "two"), fx["truth"]["tags:2"], false);
  // Non-trivial: reading tags changes the answer, and the small budget falls short.
  EXPECT_EQ(fx["truth"][""]["not_evaluated"].size(), 2u);
  EXPECT_GT(fx["truth"]["tags:100"]["expired"].get<int>(), fx["truth"][""]["expired"].get<int>());
  EXPECT_GT(fx["truth"]["tags:2"]["tags_unread"].get<int>(), 0);
  const TargetReport* two = target(report, "two");
  ASSERT_NE(two, nullptr);
  EXPECT_EQ(two->extra["s3"]["tag_filters_evaluated"], false);
  EXPECT_EQ(target(report, "all")->extra["s3"]["tag_filters_evaluated"], true);
}

TEST_F(S3Moto, BucketRegionDiscoveredResignedAndCachedPerBucket) {
  const int64_t as_of = now_ + 2 * kDay;  // past round_up(created + 1h) for every object
  struct Case {
    std::string bucket, region;
    AwsLikeProxy::Mode mode;
  };
  std::vector<Case> cases = {
      {unique("ttla-eu301"), "eu-west-1", AwsLikeProxy::Mode::kRedirect301},
      {unique("ttla-ap400"), "ap-southeast-2", AwsLikeProxy::Mode::kMalformedWithRegion},
      {unique("ttla-de400bare"), "eu-central-1", AwsLikeProxy::Mode::kMalformedBare},
      {unique("ttla-home"), "us-east-1", AwsLikeProxy::Mode::kRedirect301},
  };
  AwsLikeProxy proxy(moto_);
  std::map<std::string, nlohmann::json> truth;
  std::string yaml = "targets:\n";
  for (const auto& c : cases) {
    nlohmann::json fx = make_fixture("plain", c.bucket, as_of, {"p/"}, c.region);
    ASSERT_FALSE(fx.is_null());
    truth[c.bucket] = fx["truth"]["p/"];
    proxy.add(c.bucket, {c.region, c.mode, ""});
    // Two targets per bucket, both configured for us-east-1: the second must be signed for the
    // bucket's region from its first request (the discovery is cached per bucket).
    yaml += s3_target(c.bucket + "-1", c.bucket, "p/", proxy.url(), "    retention: 1h\n");
    yaml += s3_target(c.bucket + "-2", c.bucket, "p/", proxy.url(), "    retention: 1h\n");
  }
  Report report = audit(yaml, as_of);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.bucket);
    for (const std::string suffix : {"-1", "-2"}) {
      const TargetReport* t = target(report, c.bucket + suffix);
      ASSERT_NE(t, nullptr);
      ASSERT_EQ(t->status, Status::kOk) << t->error.value_or("");
      EXPECT_EQ(t->extra["s3"]["region"], c.region);
      EXPECT_EQ(t->extra["s3"]["objects"], truth[c.bucket]["objects"]);
      EXPECT_EQ(t->stats.expired_count(), truth[c.bucket]["objects"].get<uint64_t>());
      EXPECT_EQ(t->extra["s3"]["versioning"], "Disabled");
    }
    const bool home = c.region == "us-east-1";
    EXPECT_EQ(target(report, c.bucket + "-1")->extra["s3"]["region_redirects"], home ? 0 : 1);
    EXPECT_EQ(target(report, c.bucket + "-2")->extra["s3"]["region_redirects"], 0);
    // What the proxy refused: one GET per foreign bucket, plus HeadBucket when the 400 named no
    // region; nothing for the second target.
    std::vector<std::string> expected;
    if (!home) expected.push_back("GET");
    if (c.mode == AwsLikeProxy::Mode::kMalformedBare && !home) expected.push_back("HEAD");
    EXPECT_EQ(proxy.refused(c.bucket), expected);
    std::vector<std::string> regions = proxy.signed_regions(c.bucket);
    ASSERT_FALSE(regions.empty());
    // Everything after the discovery was signed for the bucket's region.
    size_t wrong = 0;
    for (const auto& r : regions) wrong += r != c.region;
    EXPECT_EQ(wrong, expected.size());
  }
}

}  // namespace
