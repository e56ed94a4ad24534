// The operator's first hour, through the real binary:
// - time limits that speak: a loopback server that accepts connections and never answers (a real
//   server behaviour, owned by this test) makes every retry log a warn line with its reason and
//   attempt, `request_timeout` bounds the wait, and `max_duration` stops the target as partial;
//   against dynalite a rate-limited scan cut by `max_duration` keeps what it read;
// - no silent zeros: a target that measured nothing has `expired: null` and no expired metrics,
//   and a pattern that matches nothing fires `target_empty`;
// - preflight: `check-config --online` against dynalite, moto (S3), PostgreSQL and the filesystem,
//   with a wrong table, a missing bucket, a bad DSN and a missing directory failing; `run --plan`
//   checked against what the test loaded (moto's live ItemCount, pg_class after ANALYZE, an S3
//   listing, a directory).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/files.h"
#include "support/report_schema.h"
#include "support/require.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Outcome {
  int exit_code = -1;
  double seconds = 0;
  std::string out, err;
};

// Runs `ttl-auditor ARGS` (arguments are simple words and temp paths) with a test environment.
Outcome ttla(const fs::path& dir, const std::string& args, const std::string& env = "") {
  const fs::path out = dir / "stdout.txt", err = dir / "stderr.txt";
  const std::string cmd = "env AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "
                          "AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 " + env + " '" +
                          TTLA_BINARY + "' " + args + " >'" + out.string() + "' 2>'" +
                          err.string() + "'";
  const auto t0 = std::chrono::steady_clock::now();
  const int st = std::system(cmd.c_str());
  Outcome o;
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  o.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  o.out = ttla::testing::read_file(out);
  o.err = ttla::testing::read_file(err);
  return o;
}

// Scratch folders named after this test file.
struct TempDir : ttla::testing::TempDir {
  TempDir() : ttla::testing::TempDir("ttla-preflight") {}
};

// A TCP server on a loopback port that accepts every connection and never sends a byte.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 100) > 0) {
          const int c = ::accept(fd_, nullptr, nullptr);
          if (c >= 0) {
            accepted_.fetch_add(1);
            held_.push_back(c);  // kept open, never read, never answered
          }
        }
      }
    });
  }
  ~SilentServer() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    for (int c : held_) ::close(c);
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::vector<int> held_;
  std::thread thread_;
};

json target_of(const fs::path& report) { return json::parse(ttla::testing::read_file(report)).at("targets").at(0); }

int count_matches(const std::string& text, const std::regex& re) {
  return static_cast<int>(std::distance(std::sregex_iterator(text.begin(), text.end(), re),
                                        std::sregex_iterator()));
}

bool has_anomaly(const json& target, const std::string& rule) {
  for (const json& a : target.at("anomalies")) {
    if (a.at("rule") == rule) return true;
  }
  return false;
}

// ---- time limits ----------------------------------------------------------------------------

TEST(TimeLimits, HungEndpointLogsEveryRetryAndRequestTimeoutBoundsTheWait) {
  SilentServer server;
  ASSERT_GT(server.port(), 0);
  TempDir dir;
  const fs::path cfg = dir.write("c.yaml",
                                 "targets:\n"
                                 "  - {name: hung, kind: dynamodb, table: Sessions, cloudwatch: false,\n"
                                 "     endpoint_url: \"" + server.url() + "\", request_timeout: 1s}\n");
  const fs::path report = dir.path() / "r.json", prom = dir.path() / "m.prom";
  Outcome o = ttla(dir.path(), "run --config " + cfg.string() + " --report " + report.string() +
                                   " --textfile " + prom.string() + " --no-progress");
  EXPECT_EQ(o.exit_code, 3) << o.err;
  // Five attempts of 1 s plus jittered backoff (at most 0.1+0.2+0.4+0.8 s): far from the 150 s
  // five 30 s attempts would take.
  EXPECT_GE(o.seconds, 5.0) << o.err;
  EXPECT_LT(o.seconds, 15.0) << o.err;
  EXPECT_GE(server.accepted(), 5);
  for (int attempt = 1; attempt <= 4; ++attempt) {
    EXPECT_EQ(count_matches(o.err, std::regex("level=warn [^\\n]*msg=\"aws retry\" [^\\n]*op=DescribeTable "
                                              "attempt=" + std::to_string(attempt) + " reason=timeout")),
              1)
        << "attempt " << attempt << " in:\n" << o.err;
  }
  EXPECT_EQ(count_matches(o.err, std::regex("msg=\"aws retry\"")), 4) << o.err;
  const json t = target_of(report);
  EXPECT_EQ(t.at("status"), "failed");
  EXPECT_NE(t.at("error").get<std::string>().find("timeout"), std::string::npos) << t.dump();
  // Nothing measured: null, never a zeroed section.
  EXPECT_TRUE(t.at("expired").is_null()) << t.dump();
  EXPECT_TRUE(ValidatesAgainstReportSchema(json::parse(ttla::testing::read_file(report))));
  const std::string metrics = ttla::testing::read_file(prom);
  EXPECT_NE(metrics.find("ttl_auditor_target_success{kind=\"dynamodb\",target=\"hung\"} 0"),
            std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("ttl_auditor_expired_items{"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("ttl_auditor_oldest_overdue_seconds{"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("ttl_auditor_overdue_seconds_bucket{"), std::string::npos) << metrics;
}

TEST(TimeLimits, MaxDurationStopsAHungTargetAsPartialWithItsReason) {
  SilentServer server;
  ASSERT_GT(server.port(), 0);
  TempDir dir;
  const fs::path cfg = dir.write("c.yaml",
                                 "targets:\n"
                                 "  - {name: slow, kind: dynamodb, table: Sessions, cloudwatch: false,\n"
                                 "     endpoint_url: \"" + server.url() + "\", max_duration: 2s}\n");
  const fs::path report = dir.path() / "r.json", prom = dir.path() / "m.prom";
  Outcome o = ttla(dir.path(), "run --config " + cfg.string() + " --report " + report.string() +
                                   " --textfile " + prom.string() + " --no-progress");
  EXPECT_EQ(o.exit_code, 3) << o.err;
  // The default request_timeout (30 s) would hold it far longer; the limit ends it at ~2 s.
  EXPECT_GE(o.seconds, 2.0) << o.err;
  EXPECT_LT(o.seconds, 6.0) << o.err;
  const json t = target_of(report);
  EXPECT_EQ(t.at("status"), "partial") << t.dump();
  EXPECT_EQ(t.at("error").get<std::string>().rfind("max_duration 2s exceeded", 0), 0u) << t.dump();
  EXPECT_TRUE(t.at("expired").is_null()) << t.dump();
  EXPECT_TRUE(has_anomaly(t, "target_partial"));
  EXPECT_FALSE(has_anomaly(t, "target_empty"));
  EXPECT_TRUE(ValidatesAgainstReportSchema(json::parse(ttla::testing::read_file(report))));
  EXPECT_NE(o.err.find("target partial"), std::string::npos) << o.err;
  const std::string metrics = ttla::testing::read_file(prom);
  EXPECT_EQ(metrics.find("ttl_auditor_expired_items{"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("ttl_auditor_anomaly{kind=\"dynamodb\",rule=\"target_partial\",severity=\"warning\",target=\"slow\"} 1"),
            std::string::npos) << metrics;
}

const char* dynalite() { return std::getenv("TTLA_DYNALITE_ENDPOINT"); }
const char* moto() { return std::getenv("TTLA_MOTO_ENDPOINT"); }
const char* pg_dsn() { return std::getenv("TTLA_PG_DSN"); }

std::string tool(const std::string& name) {
  return std::string(TTLA_SOURCE_DIR) + "/tests/tools/" + name;
}

// Loads `items` generated items into a fresh table (tests/tools/dynamo_gen.py) and returns the
// truth it computed, or an empty object.
json load_table(const std::string& endpoint, const std::string& table, int items, const fs::path& dir) {
  const fs::path truth = dir / (table + ".truth.json");
  const std::string cmd = "AWS_EC2_METADATA_DISABLED=true /usr/bin/python3 '" + tool("dynamo_gen.py") +
                          "' --endpoint " + endpoint + " --table " + table + " --items " +
                          std::to_string(items) + " --as-of 1790000000 --seed 7 --recreate --quiet" +
                          " --truth '" + truth.string() + "' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) return json::object();
  return json::parse(ttla::testing::read_file(truth));
}

std::string unique(const std::string& base) {
  return base + std::to_string(::getpid()) + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 100000);
}

TEST(TimeLimits, MaxDurationKeepsWhatARateLimitedScanRead) {
  if (dynalite() == nullptr) TTLA_SKIP_OR_FAIL("TTLA_DYNALITE_ENDPOINT not set: scripts/servers/dynalite.sh");
  TempDir dir;
  const std::string table = unique("Limits");
  const json truth = load_table(dynalite(), table, 4000, dir.path());
  ASSERT_FALSE(truth.empty()) << "dynamo_gen.py failed";
  // 4000 small items are ~10+ read units; at 2 units/s the scan needs several seconds.
  const fs::path cfg = dir.write("c.yaml",
                                 "targets:\n"
                                 "  - {name: capped, kind: dynamodb, table: " + table + ", cloudwatch: false,\n"
                                 "     ttl_attribute: ttl, endpoint_url: \"" + dynalite() + "\",\n"
                                 "     max_read_units_per_second: 2, segments: 1, max_duration: 2s}\n");
  const fs::path report = dir.path() / "r.json";
  Outcome o = ttla(dir.path(), "run --as-of 1790000000 --config " + cfg.string() + " --report " +
                                   report.string() + " --no-progress");
  EXPECT_EQ(o.exit_code, 3) << o.err;
  EXPECT_LT(o.seconds, 8.0) << o.err;
  const json t = target_of(report);
  EXPECT_EQ(t.at("status"), "partial") << t.dump();
  EXPECT_EQ(t.at("error").get<std::string>().rfind("max_duration 2s exceeded", 0), 0u) << t.dump();
  const uint64_t scanned = t.at("scan").at("items_scanned");
  EXPECT_GT(scanned, 0u) << t.dump();
  EXPECT_LT(scanned, 4000u) << t.dump();
  ASSERT_TRUE(t.at("expired").is_object()) << t.dump();  // kept: lower bounds
  EXPECT_LE(t.at("expired").at("count").get<uint64_t>(), truth.at("classes").at("expired").get<uint64_t>());
  EXPECT_TRUE(ValidatesAgainstReportSchema(json::parse(ttla::testing::read_file(report))));
}

// ---- no silent zeros ------------------------------------------------------------------------

TEST(NoSilentZeros, APatternMatchingNothingFiresTargetEmpty) {
  TempDir dir;
  fs::create_directories(dir.path() / "images");
  for (int i = 0; i < 3; ++i) dir.write("images/photo" + std::to_string(i) + ".jpg", "x");
  for (const std::string pattern : {"*.JPG", "*.jpg"}) {
    const fs::path cfg = dir.write("c.yaml", "targets:\n"
                                             "  - {name: images, kind: filesystem, path: " +
                                                 (dir.path() / "images").string() +
                                                 ", retention: 7d, pattern: \"" + pattern + "\"}\n");
    const fs::path report = dir.path() / "r.json", prom = dir.path() / "m.prom";
    Outcome o = ttla(dir.path(), "run --config " + cfg.string() + " --report " + report.string() +
                                     " --textfile " + prom.string() + " --fail-on warning --no-progress");
    const json t = target_of(report);
    const std::string metrics = ttla::testing::read_file(prom);
    const std::string firing =
        "ttl_auditor_anomaly{kind=\"filesystem\",rule=\"target_empty\",severity=\"warning\",target=\"images\"} 1";
    if (pattern == "*.JPG") {
      EXPECT_EQ(o.exit_code, 1) << o.err;
      ASSERT_TRUE(has_anomaly(t, "target_empty")) << t.dump();
      std::string message;
      for (const json& a : t.at("anomalies")) {
        if (a.at("rule") == "target_empty") message = a.at("message");
      }
      EXPECT_NE(message.find("pattern *.JPG"), std::string::npos) << message;
      EXPECT_NE(message.find((dir.path() / "images").string()), std::string::npos) << message;
      EXPECT_NE(metrics.find(firing), std::string::npos) << metrics;
    } else {
      EXPECT_EQ(o.exit_code, 0) << o.err;
      EXPECT_FALSE(has_anomaly(t, "target_empty")) << t.dump();
      EXPECT_EQ(metrics.find(firing), std::string::npos) << metrics;
    }
    EXPECT_TRUE(ValidatesAgainstReportSchema(json::parse(ttla::testing::read_file(report))));
  }
}

// ---- preflight ------------------------------------------------------------------------------

// The line `check-config --online` or `run --plan` printed for a target.
std::string line_of(const std::string& out, const std::string& target) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(target + " (", 0) == 0) return line;
  }
  return "";
}

TEST(Preflight, FilesystemOnlineAndPlan) {
  TempDir dir;
  fs::create_directories(dir.path() / "data" / "sub");
  for (int i = 0; i < 4; ++i) dir.write("data/f" + std::to_string(i) + ".jpg", "x");
  dir.write("data/notes.txt", "x");
  const fs::path cfg = dir.write(
      "c.yaml", "targets:\n"
                "  - {name: here, kind: filesystem, path: " + (dir.path() / "data").string() +
                    ", retention: 7d, pattern: \"*.jpg\"}\n"
                "  - {name: gone, kind: filesystem, path: " + (dir.path() / "missing").string() +
                    ", retention: 7d}\n");
  Outcome o = ttla(dir.path(), "check-config --online --config " + cfg.string());
  EXPECT_EQ(o.exit_code, 3) << o.out << o.err;
  EXPECT_EQ(line_of(o.out, "here").rfind("here (filesystem): ok", 0), 0u) << o.out;
  EXPECT_NE(line_of(o.out, "gone").find("error: io: path " + (dir.path() / "missing").string() +
                                        ": No such file or directory"),
            std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find("1 of 2 targets ready"), std::string::npos) << o.out;

  Outcome ok = ttla(dir.path(), "run --plan --target here --config " + cfg.string());
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  const std::string plan = line_of(ok.out, "here");
  EXPECT_NE(plan.find("items=unknown"), std::string::npos) << plan;
  EXPECT_NE(plan.find("first level: 4 matching files, 1 folders"), std::string::npos) << plan;
  EXPECT_FALSE(fs::exists(dir.path() / "r.json"));
}

TEST(Preflight, DynamodbOnlineOnDynalite) {
  if (dynalite() == nullptr) TTLA_SKIP_OR_FAIL("TTLA_DYNALITE_ENDPOINT not set: scripts/servers/dynalite.sh");
  TempDir dir;
  const std::string table = unique("Ready");
  ASSERT_FALSE(load_table(dynalite(), table, 50, dir.path()).empty());
  const fs::path cfg = dir.write(
      "c.yaml", "targets:\n"
                "  - {name: good, kind: dynamodb, table: " + table + ", ttl_attribute: ttl,\n"
                "     endpoint_url: \"" + dynalite() + "\"}\n"
                "  - {name: typo, kind: dynamodb, table: " + table + "Typo,\n"
                "     endpoint_url: \"" + dynalite() + "\"}\n");
  Outcome o = ttla(dir.path(), "check-config --online --config " + cfg.string());
  EXPECT_EQ(o.exit_code, 3) << o.out << o.err;
  EXPECT_EQ(line_of(o.out, "good").rfind("good (dynamodb): ok: table " + table + " ACTIVE", 0), 0u) << o.out;
  EXPECT_NE(line_of(o.out, "typo").find("error: "), std::string::npos) << o.out;
  EXPECT_NE(line_of(o.out, "typo").find("ResourceNotFoundException"), std::string::npos) << o.out;
}

TEST(Preflight, DynamodbAndS3PlanOnMotoMatchWhatWasLoaded) {
  if (moto() == nullptr) TTLA_SKIP_OR_FAIL("TTLA_MOTO_ENDPOINT not set: scripts/servers/moto.sh");
  TempDir dir;
  const std::string table = unique("Plan");
  const json truth = load_table(moto(), table, 120, dir.path());
  ASSERT_FALSE(truth.empty()) << "dynamo_gen.py failed against moto";
  // S3: a bucket with 7 objects of known sizes under the prefix, 2 outside it.
  const std::string bucket = "plan-" + std::to_string(::getpid());
  std::string py =
      "import boto3\n"
      "s3 = boto3.client('s3', endpoint_url='" + std::string(moto()) + "', region_name='us-east-1',\n"
      "                  aws_access_key_id='test', aws_secret_access_key='test')\n"
      "s3.create_bucket(Bucket='" + bucket + "')\n"
      "for i in range(7): s3.put_object(Bucket='" + bucket + "', Key='in/o%d' % i, Body=b'a' * (100 + i))\n"
      "for i in range(2): s3.put_object(Bucket='" + bucket + "', Key='out/o%d' % i, Body=b'b' * 10)\n";
  const fs::path script = dir.write("s3.py", py);
  ASSERT_EQ(std::system(("/usr/bin/python3 '" + script.string() + "'").c_str()), 0);
  const fs::path cfg = dir.write(
      "c.yaml", "targets:\n"
                "  - {name: table, kind: dynamodb, table: " + table + ", ttl_attribute: ttl,\n"
                "     endpoint_url: \"" + std::string(moto()) + "\", max_read_units_per_second: 10}\n"
                "  - {name: objects, kind: s3, bucket: " + bucket + ", prefix: in/, retention: 7d,\n"
                "     endpoint_url: \"" + std::string(moto()) + "\"}\n"
                "  - {name: nobucket, kind: s3, bucket: " + bucket + "-missing, retention: 7d,\n"
                "     endpoint_url: \"" + std::string(moto()) + "\"}\n");
  Outcome online = ttla(dir.path(), "check-config --online --config " + cfg.string());
  EXPECT_EQ(online.exit_code, 3) << online.out << online.err;
  EXPECT_EQ(line_of(online.out, "table").rfind("table (dynamodb): ok", 0), 0u) << online.out;
  EXPECT_EQ(line_of(online.out, "objects").rfind("objects (s3): ok", 0), 0u) << online.out;
  EXPECT_NE(line_of(online.out, "nobucket").find("NoSuchBucket"), std::string::npos) << online.out;

  Outcome plan = ttla(dir.path(), "run --plan --target table --target objects --config " + cfg.string());
  EXPECT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  const uint64_t loaded = truth.at("items");
  EXPECT_NE(line_of(plan.out, "table").find("items=" + std::to_string(loaded) + " "), std::string::npos)
      << plan.out;
  EXPECT_NE(line_of(plan.out, "objects").find("items=7 bytes=721 requests>=1"), std::string::npos)
      << plan.out;
  EXPECT_NE(plan.out.find("nothing was scanned"), std::string::npos);
}

TEST(Preflight, PostgresOnlineAndPlanFromPgClass) {
  if (pg_dsn() == nullptr) TTLA_SKIP_OR_FAIL("TTLA_PG_DSN not set: scripts/servers/postgres.sh");
  TempDir dir;
  const std::string table = unique("plan_rows_");
  const std::string sql = "CREATE TABLE " + table + " (id serial primary key, deleted_at timestamptz);"
                          "INSERT INTO " + table + " (deleted_at) SELECT now() - g * interval '1 hour'"
                          " FROM generate_series(1, 2345) g; ANALYZE " + table + ";";
  ASSERT_EQ(std::system(("psql -q '" + std::string(pg_dsn()) + "' -c \"" + sql + "\" >/dev/null").c_str()), 0);
  const fs::path cfg = dir.write(
      "c.yaml", "targets:\n"
                "  - {name: rows, kind: postgres, dsn: \"" + std::string(pg_dsn()) + "\", table: " + table +
                    ",\n     timestamp_column: deleted_at, key_column: id, retention: 30d}\n"
                "  - {name: badcolumn, kind: postgres, dsn: \"" + std::string(pg_dsn()) + "\", table: " + table +
                    ",\n     timestamp_column: removed_at, retention: 30d}\n"
                "  - {name: baddsn, kind: postgres, dsn: \"host=127.0.0.1 port=1 dbname=x\", table: t,\n"
                "     timestamp_column: deleted_at, retention: 30d, connect_timeout: 2s}\n");
  Outcome online = ttla(dir.path(), "check-config --online --config " + cfg.string());
  EXPECT_EQ(online.exit_code, 3) << online.out << online.err;
  EXPECT_EQ(line_of(online.out, "rows").rfind("rows (postgres): ok", 0), 0u) << online.out;
  EXPECT_NE(line_of(online.out, "badcolumn").find("removed_at"), std::string::npos) << online.out;
  EXPECT_NE(line_of(online.out, "baddsn").find("error: network: cannot connect"), std::string::npos) << online.out;
  EXPECT_NE(online.out.find("1 of 3 targets ready"), std::string::npos) << online.out;

  Outcome plan = ttla(dir.path(), "run --plan --target rows --config " + cfg.string());
  EXPECT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_NE(line_of(plan.out, "rows").find("items=2345 "), std::string::npos) << plan.out;
  Outcome bad = ttla(dir.path(), "run --plan --target baddsn --config " + cfg.string());
  EXPECT_EQ(bad.exit_code, 3) << bad.out;
}

}  // namespace
