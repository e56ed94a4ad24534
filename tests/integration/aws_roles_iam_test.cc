// Credentials, endpoints, clock skew and least privilege against moto's server with IAM
// enforcement on (INITIAL_NO_AUTH_ACTION_COUNT): after the setup requests every request must be
// signed by an IAM user (or an assumed role) whose policy allows its action.
//
// The process starts its own moto (scripts/servers/moto.sh) on first use; tests/tools/
// moto_iam_setup.py creates a table, a versioned bucket with a stale multipart upload, one IAM
// user with exactly the actions `ttl-auditor iam-policy` prints (Resource widened to "*", which is
// all moto matches), one user per action with that action removed, a user allowed only
// sts:AssumeRole and the roles AuditReader (the printed actions) and S3Only.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/require.h"
#include "support/spawn.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPython = "/usr/bin/python3";  // Debian's, with boto3
constexpr int kFreeRequests = 100;                   // moto's INITIAL_NO_AUTH_ACTION_COUNT
constexpr const char* kTable = "ttla-iam-table";
constexpr const char* kBucket = "ttla-iam-bucket";
constexpr const char* kAccount = "123456789012";

std::string tool(const std::string& name) { return std::string(TTLA_SOURCE_DIR) + "/tests/tools/" + name; }

using Env = ttla::testing::EnvChanges;  // "" as a value unsets the variable
using Result = ttla::testing::SpawnResult;
using ttla::testing::Child;
using ttla::testing::read_file;

Result run(const std::vector<std::string>& argv, const Env& env, const fs::path& dir,
           const std::string& tag) {
  return ttla::testing::run_in(argv, dir, tag, env);
}

// The moto of this process, started on first use and stopped at exit.
struct Moto {
  fs::path dir;
  std::string endpoint;
  std::string error;
  json setup;
  std::string policy_text;

  static Moto& get() {
    static Moto m;
    return m;
  }
  ~Moto() {
    if (!dir.empty()) {
      run({"bash", std::string(TTLA_SOURCE_DIR) + "/scripts/servers/moto.sh", "stop", (dir / "moto").string()},
          {}, dir, "moto-stop");
      if (!std::getenv("TTLA_KEEP_TEST_DIR")) {
        std::error_code ec;
        fs::remove_all(dir, ec);
      }
    }
  }

 private:
  Moto() {
    char tmpl[] = "/tmp/ttla-iam-it-XXXXXX";
    if (!mkdtemp(tmpl)) {
      error = "mkdtemp failed";
      return;
    }
    dir = tmpl;
    Result r = run({"bash", std::string(TTLA_SOURCE_DIR) + "/scripts/servers/moto.sh", "start",
                    (dir / "moto").string()},
                   {{"INITIAL_NO_AUTH_ACTION_COUNT", std::to_string(kFreeRequests)}}, dir, "moto-start");
    std::smatch m;
    std::regex re("TTLA_MOTO_ENDPOINT=(\\S+)");
    if (r.exit_code != 0 || !std::regex_search(r.out, m, re)) {
      error = "moto did not start (scripts/servers/moto.sh): " + r.describe();
      return;
    }
    endpoint = m[1];
    // The policy the auditor prints for the config of the least-privilege test.
    fs::path cfg = dir / "policy-config.yaml";
    std::ofstream(cfg) << least_privilege_config(endpoint);
    Result p = run({TTLA_BINARY, "iam-policy", "--config", cfg.string()}, {}, dir, "iam-policy");
    policy_text = p.out;
    if (p.exit_code != 0 || json::parse(p.out, nullptr, false).is_discarded()) {
      error = "iam-policy failed: " + p.describe();
      return;
    }
    std::ofstream(dir / "policy.json") << p.out;
    Result s = run({kPython, tool("moto_iam_setup.py"), "--endpoint", endpoint, "--policy",
                    (dir / "policy.json").string(), "--table", kTable, "--bucket", kBucket,
                    "--prefix", "data/", "--free", std::to_string(kFreeRequests)},
                   {}, dir, "setup");
    setup = json::parse(s.out, nullptr, false);
    if (s.exit_code != 0 || setup.is_discarded()) error = "moto_iam_setup.py failed: " + s.describe();
  }

 public:
  static std::string least_privilege_config(const std::string& endpoint) {
    return "targets:\n"
           "  - name: ddb\n    kind: dynamodb\n    table: " + std::string(kTable) +
           "\n    region: us-east-1\n    endpoint_url: " + endpoint + "\n" +
           // No prefix: moto 5.2 with IAM enforcement rejects the signature of any query value
           // holding a '/' (boto3's own ListObjectsV2 with Prefix="data/" fails the same way).
           "  - name: bucket\n    kind: s3\n    bucket: " + kBucket +
           "\n    region: us-east-1\n    endpoint_url: " + endpoint +
           "\n    retention: 30d\n    multipart_max_age: 1s\n";
  }
};

class AwsRolesIamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v moto_server > /dev/null 2>&1") != 0) {
      TTLA_SKIP_OR_FAIL("moto_server not on PATH (pip's moto[server]); see LOCAL-SERVERS.md");
    }
    Moto& m = Moto::get();
    ASSERT_TRUE(m.error.empty()) << m.error;
    dir_ = m.dir;
    endpoint_ = m.endpoint;
  }

  // Environment of every audit: no ambient AWS settings, IMDS off, HOME in the test dir.
  Env base_env() const {
    Env e;
    for (char** p = environ; *p != nullptr; ++p) {
      std::string entry(*p);
      std::string name = entry.substr(0, entry.find('='));
      if (name.rfind("AWS_", 0) == 0) e[name] = "";
    }
    e["AWS_EC2_METADATA_DISABLED"] = "true";
    e["HOME"] = dir_.string();
    e["AWS_CONFIG_FILE"] = (dir_ / "no-config").string();
    e["AWS_SHARED_CREDENTIALS_FILE"] = (dir_ / "no-credentials").string();
    return e;
  }
  Env user_env(const std::string& label) const {
    Env e = base_env();
    const json& u = Moto::get().setup["users"][label];
    e["AWS_ACCESS_KEY_ID"] = u["key"].get<std::string>();
    e["AWS_SECRET_ACCESS_KEY"] = u["secret"].get<std::string>();
    return e;
  }

  struct Audit {
    Result result;
    json report;
  };
  Audit audit(const std::string& tag, const std::string& config_yaml, const Env& env) {
    fs::path cfg = dir_ / (tag + ".yaml");
    std::ofstream(cfg) << config_yaml;
    fs::path rep = dir_ / (tag + ".report.json");
    std::error_code ec;
    fs::remove(rep, ec);
    Audit a;
    a.result = run({TTLA_BINARY, "run", "--config", cfg.string(), "--report", rep.string()}, env,
                   dir_, tag);
    if (fs::exists(rep)) a.report = json::parse(read_file(rep), nullptr, false);
    EXPECT_TRUE(a.report.is_object()) << "no report: " << a.result.describe();
    return a;
  }
  static const json* target(const json& report, const std::string& name) {
    if (!report.is_object() || !report.contains("targets")) return nullptr;
    for (const auto& t : report["targets"]) {
      if (t.value("name", "") == name) return &t;
    }
    return nullptr;
  }
  static std::string status(const json& report, const std::string& name) {
    const json* t = target(report, name);
    return t ? t->value("status", "?") : "missing";
  }
  static std::string error(const json& report, const std::string& name) {
    const json* t = target(report, name);
    return t && t->contains("error") && (*t)["error"].is_string() ? (*t)["error"].get<std::string>() : "";
  }
  static std::string role(const std::string& name) {
    return "arn:aws:iam::" + std::string(kAccount) + ":role/" + name;
  }

  fs::path dir_;
  std::string endpoint_;
};

// ------------------------------------------------------------------- least privilege

TEST_F(AwsRolesIamTest, PrintedPolicyIsExactlyEnoughOnAnIamEnforcingServer) {
  const json& setup = Moto::get().setup;
  const json policy = json::parse(Moto::get().policy_text);
  std::vector<std::string> actions;
  for (const auto& s : policy["Statement"]) {
    for (const auto& a : s["Action"]) actions.push_back(a.get<std::string>());
  }
  // What the auditor sends for this config: nothing else is printed.
  EXPECT_EQ(std::set<std::string>(actions.begin(), actions.end()),
            (std::set<std::string>{"cloudwatch:GetMetricData", "dynamodb:DescribeTable",
                                   "dynamodb:DescribeTimeToLive", "dynamodb:DescribeStream",
                                   "dynamodb:GetShardIterator", "dynamodb:GetRecords",
                                   "dynamodb:Scan", "s3:GetBucketVersioning",
                                   "s3:GetLifecycleConfiguration", "s3:ListBucket",
                                   "s3:ListBucketMultipartUploads", "s3:ListBucketVersions",
                                   "s3:ListMultipartUploadParts"}))
      << Moto::get().policy_text;
  const std::string config = Moto::least_privilege_config(endpoint_);

  // Enforcement is on: an unknown key is refused.
  {
    Env e = base_env();
    e["AWS_ACCESS_KEY_ID"] = "AKIANOTAMOTOUSER0000";
    e["AWS_SECRET_ACCESS_KEY"] = "nope";
    Audit a = audit("iam-unknown-key", config, e);
    EXPECT_EQ(status(a.report, "ddb"), "failed");
    EXPECT_EQ(status(a.report, "bucket"), "failed");
  }
  // Exactly the printed actions: both targets audited.
  Audit full = audit("iam-full", config, user_env("full"));
  ASSERT_EQ(status(full.report, "ddb"), "ok") << error(full.report, "ddb") << full.result.describe();
  ASSERT_EQ(status(full.report, "bucket"), "ok") << error(full.report, "bucket") << full.result.describe();
  EXPECT_EQ((*target(full.report, "ddb"))["scan"]["items_scanned"].get<int>(), 10);
  EXPECT_EQ((*target(full.report, "ddb"))["expired"]["count"].get<double>(), 6);
  // The table's stream (NEW_AND_OLD_IMAGES) was read: the setup's 10 INSERTs, no TTL deletion.
  const json& full_stream = (*target(full.report, "ddb"))["deletion"]["latency_stream"];
  EXPECT_FALSE(full_stream.contains("error")) << full_stream.dump();
  EXPECT_EQ(full_stream.value("records", -1), 10) << full_stream.dump();
  // Any one action removed: its target fails with AccessDenied, the other is still audited.
  for (const std::string& action : actions) {
    SCOPED_TRACE(action);
    const std::string label = "minus:" + action;
    ASSERT_TRUE(setup["users"].contains(label));
    Audit a = audit("iam-" + std::regex_replace(action, std::regex("[:]"), "-"), config,
                    user_env(label));
    const bool s3 = action.rfind("s3:", 0) == 0;
    const std::string broken = s3 ? "bucket" : "ddb", intact = s3 ? "ddb" : "bucket";
    if (action == "cloudwatch:GetMetricData") {
      // The deletion rate is an addition to the audit, not a condition of it: without the action
      // the table is still audited and the deletion section carries the denial instead of a rate.
      const json* t = target(a.report, broken);
      ASSERT_NE(t, nullptr);
      EXPECT_EQ(status(a.report, broken), "ok") << error(a.report, broken);
      ASSERT_TRUE(t->contains("deletion")) << t->dump();
      EXPECT_NE((*t)["deletion"].value("error", "").find("AccessDenied"), std::string::npos)
          << (*t)["deletion"].dump();
      EXPECT_FALSE((*t)["deletion"].contains("rate_per_hour")) << (*t)["deletion"].dump();
      EXPECT_EQ(status(a.report, intact), "ok") << error(a.report, intact);
      continue;
    }
    if (action == "dynamodb:DescribeStream" || action == "dynamodb:GetShardIterator" ||
        action == "dynamodb:GetRecords") {
      // Stream latency is an addition too: the audit stands, the deletion section says why the
      // stream could not be read (the operation and the denial) and no stream latency is shown.
      const json* t = target(a.report, broken);
      ASSERT_NE(t, nullptr);
      EXPECT_EQ(status(a.report, broken), "ok") << error(a.report, broken);
      EXPECT_EQ((*t)["expired"]["count"].get<double>(), 6);
      const std::string why = (*t)["deletion"].value("latency_stream_error", "");
      EXPECT_EQ(why.rfind(action.substr(9) + ": auth: AccessDenied", 0), 0u) << (*t)["deletion"].dump();
      // No snapshot tracking here (no state_dir): the failure is the section's latency_error.
      EXPECT_EQ((*t)["deletion"].value("latency_error", ""), "stream: " + why);
      EXPECT_FALSE((*t)["deletion"].contains("latency_seconds_quantiles")) << (*t)["deletion"].dump();
      EXPECT_EQ(status(a.report, intact), "ok") << error(a.report, intact);
      continue;
    }
    EXPECT_EQ(status(a.report, broken), "failed") << a.result.describe();
    EXPECT_NE(error(a.report, broken).find("AccessDenied"), std::string::npos)
        << error(a.report, broken);
    EXPECT_EQ(status(a.report, intact), "ok") << error(a.report, intact);
  }
}

// ------------------------------------------------------------------- AssumeRole

TEST_F(AwsRolesIamTest, SourceProfileAssumesARoleAndAudits) {
  const json& u = Moto::get().setup["users"]["assume_only"];
  // Endpoints from the config file only (profile endpoint_url): no target names one.
  std::ofstream(dir_ / "chain.config")
      << "[profile base]\nendpoint_url = " << endpoint_ << "\n"
      << "[profile audit]\nrole_arn = " << role("AuditReader") << "\nsource_profile = base\n"
      << "external_id = chain-ext\nrole_session_name = ttla-chain\nduration_seconds = 900\n"
      << "region = us-east-1\nendpoint_url = " << endpoint_ << "\n";
  std::ofstream(dir_ / "chain.credentials")
      << "[base]\naws_access_key_id = " << u["key"].get<std::string>()
      << "\naws_secret_access_key = " << u["secret"].get<std::string>() << "\n";
  Env e = base_env();
  e["AWS_CONFIG_FILE"] = (dir_ / "chain.config").string();
  e["AWS_SHARED_CREDENTIALS_FILE"] = (dir_ / "chain.credentials").string();
  const std::string config =
      "targets:\n"
      "  - {name: ddb, kind: dynamodb, table: " + std::string(kTable) + ", profile: audit}\n"
      "  - {name: bucket, kind: s3, bucket: " + kBucket + ", retention: 30d, profile: audit}\n"
      // Control: the source profile's own identity may only assume roles.
      "  - {name: direct, kind: dynamodb, table: " + std::string(kTable) + ", profile: base, region: us-east-1}\n";
  Audit a = audit("chain", config, e);
  EXPECT_EQ(status(a.report, "ddb"), "ok") << error(a.report, "ddb") << a.result.describe();
  EXPECT_EQ(status(a.report, "bucket"), "ok") << error(a.report, "bucket");
  EXPECT_EQ(status(a.report, "direct"), "failed");
  EXPECT_NE(error(a.report, "direct").find("AccessDenied"), std::string::npos) << error(a.report, "direct");
  EXPECT_NE(a.result.err.find("assume_role:audit"), std::string::npos) << a.result.err.substr(0, 3000);
}

TEST_F(AwsRolesIamTest, EachTargetAssumesItsOwnRole) {
  Env e = user_env("assume_only");
  e["AWS_ENDPOINT_URL"] = endpoint_;  // every service, STS included, from the environment
  e["AWS_REGION"] = "us-east-1";
  const std::string t(kTable), b(kBucket);
  const std::string config =
      "defaults: {role_arn: \"" + role("AuditReader") + "\", external_id: ext-default}\n"
      "targets:\n"
      "  - {name: ddb-reader, kind: dynamodb, table: " + t + "}\n"
      "  - {name: ddb-s3only, kind: dynamodb, table: " + t + ", role_arn: \"" + role("S3Only") + "\"}\n"
      "  - {name: bucket-s3only, kind: s3, bucket: " + b + ", retention: 30d, role_arn: \"" +
      role("S3Only") + "\"}\n";
  Audit a = audit("per-target", config, e);
  EXPECT_EQ(status(a.report, "ddb-reader"), "ok") << error(a.report, "ddb-reader") << a.result.describe();
  EXPECT_EQ(status(a.report, "bucket-s3only"), "ok") << error(a.report, "bucket-s3only");
  EXPECT_EQ(status(a.report, "ddb-s3only"), "failed");
  EXPECT_NE(error(a.report, "ddb-s3only").find("AccessDenied"), std::string::npos)
      << error(a.report, "ddb-s3only");
  // One session per target.
  for (const char* s : {"ttl-auditor-ddb-reader", "ttl-auditor-ddb-s3only", "ttl-auditor-bucket-s3only"}) {
    EXPECT_NE(a.result.err.find(std::string("session=") + s), std::string::npos) << s;
  }
}

// ------------------------------------------------------------------- profiles

TEST_F(AwsRolesIamTest, ConfiguredProfileThatDoesNotExistIsAnError) {
  std::ofstream(dir_ / "other.config") << "[profile present]\nregion = us-east-1\n";
  Env e = user_env("full");  // keys in the environment must not be used instead
  e["AWS_CONFIG_FILE"] = (dir_ / "other.config").string();
  const std::string config = "targets:\n  - {name: ddb, kind: dynamodb, table: " + std::string(kTable) +
                             ", region: us-east-1, endpoint_url: " + endpoint_ + ", profile: absent}\n";
  Audit a = audit("missing-profile", config, e);
  EXPECT_EQ(status(a.report, "ddb"), "failed");
  const std::string err = error(a.report, "ddb");
  EXPECT_NE(err.find("profile 'absent' not found in " + (dir_ / "no-credentials").string() +
                     " (missing), " + (dir_ / "other.config").string()),
            std::string::npos) << err;
  EXPECT_EQ(err.find("web identity"), std::string::npos) << err;
}

// ------------------------------------------------------------------- clock skew

// tests/tools/skew_proxy.py, its clock an hour ahead, in front of moto.
class SkewProxy {
 public:
  SkewProxy(const fs::path& dir, const std::string& upstream, int skew_seconds)
      : out_(dir / "skew.proxy.out") {
    child_ = std::make_unique<Child>(
        std::vector<std::string>{kPython, tool("skew_proxy.py"), "--upstream", upstream, "--skew",
                                 std::to_string(skew_seconds)},
        out_, dir / "skew.proxy.err");
    for (int i = 0; i < 1200 && port_ == 0; ++i) {
      std::string s = read_file(out_);
      if (s.rfind("PORT ", 0) == 0 && s.find('\n') != std::string::npos) port_ = std::stoi(s.substr(5));
      else std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

 private:
  fs::path out_;
  std::unique_ptr<Child> child_;
  int port_ = 0;
};

TEST_F(AwsRolesIamTest, ClockSkewIsCorrectedFromTheDateHeader) {
  SkewProxy proxy(dir_, endpoint_, 3600);
  ASSERT_GT(proxy.port(), 0) << "skew_proxy.py did not start";
  const std::string config = Moto::least_privilege_config(proxy.url());
  Audit a = audit("skew", config, user_env("full"));
  EXPECT_EQ(status(a.report, "ddb"), "ok") << error(a.report, "ddb") << a.result.describe();
  EXPECT_EQ(status(a.report, "bucket"), "ok") << error(a.report, "bucket");
  Result st = run({kPython, "-c",
                   "import sys,urllib.request;sys.stdout.write(urllib.request.urlopen('" + proxy.url() +
                       "/__proxy/stats').read().decode())"},
                  {}, dir_, "skew-stats");
  json stats = json::parse(st.out, nullptr, false);
  ASSERT_TRUE(stats.is_object()) << st.describe();
  // One rejection per target (DynamoDB's InvalidSignatureException, S3's
  // RequestTimeTooSkewed): the offset learnt is kept for all of the target's later requests.
  EXPECT_EQ(stats["rejected"].get<int>(), 2) << stats;
  EXPECT_GT(stats["forwarded"].get<int>(), 5) << stats;
  // The offset is logged, close to the proxy's hour.
  const std::string log = a.result.err;
  const std::regex re("clock_skew_corrected[^\\n]*offset_s=(-?\\d+)");
  int corrections = 0;
  for (std::sregex_iterator it(log.begin(), log.end(), re), end; it != end; ++it) {
    ++corrections;
    const int offset = std::stoi((*it)[1]);
    EXPECT_NEAR(offset, 3600, 5) << it->str();
  }
  EXPECT_EQ(corrections, 2) << log.substr(0, 3000);
}

}  // namespace
