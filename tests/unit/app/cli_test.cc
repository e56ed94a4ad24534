// The ttl-auditor binary end to end (TTLA_BINARY): exit codes, --help content, version,
// check-config on every config fixture, iam-policy, log formats, failure isolation in `run`.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <thread>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/files.h"
#include "support/test_http_server.h"

namespace fs = std::filesystem;

namespace {

const fs::path kFixtures = fs::path(TTLA_SOURCE_DIR) / "tests" / "fixtures" / "config";

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Scratch folders named after this test file.
struct TempDir : ttla::testing::TempDir {
  TempDir() : ttla::testing::TempDir("ttla-cli") {}
};

// Runs the binary with `args`; `env` is a shell prefix like "A=1 B=2".
Result run(const std::vector<std::string>& args, const std::string& env = "") {
  TempDir tmp;
  std::string cmd = "env -u TTLA_FIXTURE_UNSET_TABLE TTLA_FIXTURE_TABLE=UploadSessions " + env + " " +
                    quote(TTLA_BINARY);
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " >" + quote(tmp / "out") + " 2>" + quote(tmp / "err") + " </dev/null";
  const int status = std::system(cmd.c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ttla::testing::read_file(tmp / "out");
  r.err = ttla::testing::read_file(tmp / "err");
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

bool contains_line(const std::string& text, const std::string& line) {
  auto lines = lines_of(text);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

void make_old_files(const std::string& dir, int n, int64_t age_seconds) {
  fs::create_directories(dir);
  const time_t now = time(nullptr);
  for (int i = 0; i < n; ++i) {
    const std::string p = dir + "/f" + std::to_string(i);
    std::ofstream(p) << "x";
    timespec times[2];
    times[0].tv_sec = times[1].tv_sec = now - age_seconds;
    times[0].tv_nsec = times[1].tv_nsec = 0;
    ASSERT_EQ(utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
  }
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(Cli, Version) {
  auto r = run({"version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(std::regex_search(r.out, std::regex("^ttl-auditor \\d+\\.\\d+\\.\\d+\n"))) << r.out;
  EXPECT_NE(r.out.find("source kinds:"), std::string::npos);
  auto v = run({"--version"});
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("ttl-auditor "), std::string::npos);
}

TEST(Cli, HelpHasExamplesAndExitCodes) {
  auto top = run({"--help"});
  EXPECT_EQ(top.code, 0);
  for (const char* cmd : {"run", "check-config", "iam-policy", "serve", "merge", "version"}) {
    EXPECT_NE(top.out.find(cmd), std::string::npos) << cmd;
  }
  EXPECT_NE(top.out.find("2 > 3 > 1 > 0"), std::string::npos);

  auto help = run({"run", "--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("ttl-auditor run --config /etc/ttl-auditor/config.yaml --textfile "
                          "/var/lib/node_exporter/textfile/ttl_auditor.prom"),
            std::string::npos)
      << help.out;
  for (const char* opt : {"--as-of", "--report", "--report-dir", "--textfile", "--pushgateway", "--seed",
                          "--target", "--fail-on", "--log-format", "--log-level", "--shard", "--envelope",
                          "--state-dir", "--no-progress", "JOB_COMPLETION_INDEX", "2 > 3 > 1 > 0"}) {
    EXPECT_NE(help.out.find(opt), std::string::npos) << opt;
  }
  for (const char* cmd : {"check-config", "iam-policy", "serve", "merge"}) {
    auto h = run({cmd, "--help"});
    EXPECT_EQ(h.code, 0) << cmd;
    EXPECT_NE(h.out.find(std::string("ttl-auditor ") + cmd + " "), std::string::npos) << cmd << h.out;
  }
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run({}).code, 2);
  EXPECT_EQ(run({"frobnicate"}).code, 2);
  EXPECT_EQ(run({"run"}).code, 2);  // --config required
  EXPECT_EQ(run({"run", "--config", "x.yaml", "--bogus"}).code, 2);
  const std::string ok = (kFixtures / "minimal.ok.yaml").string();
  EXPECT_EQ(run({"run", "--config", ok, "--fail-on", "sometimes"}).code, 2);
  EXPECT_EQ(run({"run", "--config", ok, "--log-format", "xml"}).code, 2);
  auto as_of = run({"run", "--config", ok, "--as-of", "next friday"});
  EXPECT_EQ(as_of.code, 2);
  EXPECT_NE(as_of.err.find("--as-of"), std::string::npos);
  // Shards must audit one instant, or `merge` would refuse them.
  auto no_as_of = run({"run", "--config", ok, "--shard", "1/4"});
  EXPECT_EQ(no_as_of.code, 2);
  EXPECT_NE(no_as_of.err.find("--shard needs --as-of"), std::string::npos) << no_as_of.err;
  auto shard = run({"run", "--config", ok, "--shard", "4/4"});
  EXPECT_EQ(shard.code, 2);
  EXPECT_NE(shard.err.find("out of range"), std::string::npos);
  EXPECT_EQ(run({"run", "--config", ok, "--shard", "auto/4"}, "JOB_COMPLETION_INDEX=").code, 2);
  auto target = run({"run", "--config", ok, "--target", "nope"});
  EXPECT_EQ(target.code, 2);
  EXPECT_NE(target.err.find("--target nope: no such target"), std::string::npos) << target.err;
  auto missing = run({"run", "--config", "/nonexistent/config.yaml"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("cannot read /nonexistent/config.yaml"), std::string::npos);
  EXPECT_EQ(run({"serve", "--config", ok, "--listen", "127.0.0.1:0", "--interval", "soon"}).code, 2);
  EXPECT_EQ(run({"merge", "/nonexistent/part.json", "--report", "/tmp/x.json"}).code, 2);
}

TEST(Cli, CheckConfigPrintsEveryProblemOfEveryBadFixture) {
  int checked = 0;
  for (const auto& e : fs::directory_iterator(kFixtures)) {
    const std::string name = e.path().filename().string();
    if (name.size() < 9 || name.substr(name.size() - 9) != ".bad.yaml") continue;
    SCOPED_TRACE(name);
    auto r = run({"check-config", "--config", e.path().string()});
    EXPECT_EQ(r.code, 2);
    fs::path expected = e.path();
    expected.replace_extension(".expected");
    const auto want = lines_of(ttla::testing::read_file(expected.string()));
    ASSERT_FALSE(want.empty());
    for (const auto& line : want) EXPECT_TRUE(contains_line(r.err, line)) << line << "\n--- got:\n" << r.err;
    EXPECT_NE(r.err.find(std::to_string(want.size()) + (want.size() == 1 ? " problem" : " problems")),
              std::string::npos);
    ++checked;
  }
  EXPECT_GE(checked, 12);
}

TEST(Cli, ConfigFromEnvironment) {
  auto r = run({"check-config"}, "TTL_AUDITOR_CONFIG=" + quote((kFixtures / "minimal.ok.yaml").string()));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("minimal.ok.yaml: ok, 1 target"), std::string::npos) << r.out;
}

TEST(Cli, CheckConfigOkFixtures) {
  for (const char* name : {"full.ok.yaml", "minimal.ok.yaml", "postgres_query.ok.yaml"}) {
    auto r = run({"check-config", "--config", (kFixtures / name).string()});
    EXPECT_EQ(r.code, 0) << name << r.err;
    EXPECT_NE(r.out.find(": ok, "), std::string::npos) << r.out;
  }
}

TEST(Cli, IamPolicyIsReadOnlyJson) {
  auto r = run({"iam-policy", "--config", (kFixtures / "full.ok.yaml").string()}, "AWS_REGION=us-west-2");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto policy = nlohmann::json::parse(r.out);
  EXPECT_EQ(policy["Version"], "2012-10-17");
  ASSERT_FALSE(policy["Statement"].empty());
  for (const auto& s : policy["Statement"]) {
    for (const auto& a : s["Action"]) {
      const std::string action = a;
      for (const char* verb : {"Put", "Delete", "Update", "Create", "Write"}) {
        EXPECT_EQ(action.find(verb), std::string::npos) << action;
      }
    }
  }
  EXPECT_NE(r.out.find("arn:aws:dynamodb:us-east-1:*:table/UploadSessions"), std::string::npos);
  EXPECT_NE(r.out.find("arn:aws:s3:::video-uploads/uploads/*"), std::string::npos);
  EXPECT_NE(r.err.find("mocs (postgres) needs no IAM permissions"), std::string::npos);
}

// One target fails (nothing listens on port 1), the other is still audited: exit 3, a report
// with the failed target, its reason, and the good target's numbers.
TEST(Cli, FailingTargetDoesNotHideOthers) {
  TempDir tmp;
  make_old_files(tmp / "images", 4, 10 * 86400);
  write(tmp / "config.yaml",
        "targets:\n"
        "  - {name: sessions, kind: dynamodb, table: UploadSessions, region: us-east-1,\n"
        "     endpoint_url: \"http://127.0.0.1:1\"}\n"
        "  - {name: images, kind: filesystem, path: " + tmp / "images" + ", retention: 1d}\n");
  auto r = run({"run", "--config", tmp / "config.yaml", "--report", tmp / "report.json", "--no-progress",
                "--fail-on", "never"},
               "AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secretsecret");
  EXPECT_EQ(r.code, 3) << r.err;
  ASSERT_TRUE(fs::exists(tmp / "report.json")) << r.err;
  const auto report = nlohmann::json::parse(ttla::testing::read_file(tmp / "report.json"));
  ASSERT_EQ(report["targets"].size(), 2u);
  EXPECT_EQ(report["run"]["status"], "failed");
  for (const auto& t : report["targets"]) {
    if (t["name"] == "sessions") {
      EXPECT_EQ(t["status"], "failed");
      ASSERT_TRUE(t["error"].is_string());
      EXPECT_FALSE(t["error"].get<std::string>().empty());
    } else {
      EXPECT_EQ(t["name"], "images");
      EXPECT_EQ(t["status"], "ok");
      EXPECT_EQ(t["expired"]["count"], 4);
    }
  }
  // One error line naming the target, in logfmt with the run id.
  EXPECT_TRUE(std::regex_search(
      r.err, std::regex("ts=\\S+ level=error run_id=" + report["run"]["id"].get<std::string>() +
                        " msg=\"target failed\" target=sessions kind=dynamodb status=failed")))
      << r.err;
  EXPECT_EQ(r.err.find("secretsecret"), std::string::npos);
  // The failure path's report still follows the published schema.
  const std::string schema = std::string(TTLA_SOURCE_DIR) + "/tests/schema/report.schema.json";
  if (fs::exists(schema) && fs::exists("/usr/bin/python3")) {
    const std::string cmd = "/usr/bin/python3 -c 'import json,sys,jsonschema; "
                            "jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' " +
                            quote(schema) + " " + quote(tmp / "report.json") + " 2>" + quote(tmp / "schema.err");
    EXPECT_EQ(std::system(cmd.c_str()), 0) << ttla::testing::read_file(tmp / "schema.err");
  }
}

TEST(Cli, ExitCodesFollowFailOn) {
  TempDir tmp;
  make_old_files(tmp / "images", 2, 10 * 86400);  // 9 days overdue
  write(tmp / "config.yaml",
        "anomalies:\n  oldest_overdue: {warning: 1h, critical: 2h}\n"
        "targets:\n  - {name: images, kind: filesystem, path: " + tmp / "images" + ", retention: 1d}\n");
  write(tmp / "clean.yaml",
        "targets:\n  - {name: images, kind: filesystem, path: " + tmp / "images" + ", retention: 30d}\n");
  EXPECT_EQ(run({"run", "--config", tmp / "config.yaml"}).code, 1);
  EXPECT_EQ(run({"run", "--config", tmp / "config.yaml", "--fail-on", "warning"}).code, 1);
  EXPECT_EQ(run({"run", "--config", tmp / "config.yaml", "--fail-on", "never"}).code, 0);
  EXPECT_EQ(run({"run", "--config", tmp / "clean.yaml", "--fail-on", "warning"}).code, 0);
  // As of 40 days from now even the 30-day retention is overdue by ~20 days.
  const std::string later = std::to_string(time(nullptr) + 40 * 86400);
  auto r = run({"run", "--config", tmp / "clean.yaml", "--as-of", later, "--report", tmp / "r.json"});
  EXPECT_EQ(nlohmann::json::parse(ttla::testing::read_file(tmp / "r.json"))["targets"][0]["expired"]["count"], 2);
  // Config errors win over everything (2 > 3 > 1).
  write(tmp / "bad.yaml", "targets:\n  - {name: images, kind: filesystem, path: /x, retention: seven}\n");
  EXPECT_EQ(run({"run", "--config", tmp / "bad.yaml"}).code, 2);
}

TEST(Cli, JsonLogsOneObjectPerLineWithRunId) {
  TempDir tmp;
  make_old_files(tmp / "images", 1, 3600);
  write(tmp / "config.yaml",
        "targets:\n  - {name: images, kind: filesystem, path: " + tmp / "images" + ", retention: 1d}\n");
  auto r = run({"run", "--config", tmp / "config.yaml", "--log-format", "json", "--log-level", "info"});
  EXPECT_EQ(r.code, 0) << r.err;
  const auto lines = lines_of(r.err);
  ASSERT_GE(lines.size(), 2u);
  std::string run_id;
  for (const auto& line : lines) {
    const auto j = nlohmann::json::parse(line);  // throws (fails) on a non-JSON line
    for (const char* key : {"ts", "level", "run_id", "msg"}) EXPECT_TRUE(j.contains(key)) << line;
    if (run_id.empty()) run_id = j["run_id"];
    EXPECT_EQ(j["run_id"], run_id);
  }
  EXPECT_TRUE(std::regex_match(run_id, std::regex("[0-9a-f]{16}")));
  auto quiet = run({"run", "--config", tmp / "config.yaml", "--log-level", "error"});
  EXPECT_EQ(quiet.code, 0);
  EXPECT_TRUE(quiet.err.empty()) << quiet.err;
}

TEST(Cli, ShardReportsMerge) {
  TempDir tmp;
  make_old_files(tmp / "images", 6, 10 * 86400);
  write(tmp / "config.yaml",
        "targets:\n  - {name: images, kind: filesystem, path: " + tmp / "images" + ", retention: 1d}\n");
  const std::string as_of = std::to_string(std::time(nullptr));  // shards share one instant
  auto whole = run({"run", "--config", tmp / "config.yaml", "--as-of", as_of, "--report", tmp / "whole.json",
                    "--fail-on", "never"});
  ASSERT_EQ(whole.code, 0) << whole.err;
  for (int i = 0; i < 2; ++i) {
    auto part = run({"run", "--config", tmp / "config.yaml", "--shard", std::to_string(i) + "/2", "--as-of",
                     as_of, "--report", tmp / ("part-" + std::to_string(i) + ".json"),
                     "--fail-on", "never"});
    ASSERT_EQ(part.code, 0) << part.err;
  }
  auto m = run({"merge", tmp / "part-0.json", tmp / "part-1.json", "--report", tmp / "merged.json",
                "--fail-on", "never"});
  ASSERT_EQ(m.code, 0) << m.err;
  const auto merged = nlohmann::json::parse(ttla::testing::read_file(tmp / "merged.json"));
  const auto single = nlohmann::json::parse(ttla::testing::read_file(tmp / "whole.json"));
  EXPECT_EQ(merged["targets"][0]["expired"]["count"], single["targets"][0]["expired"]["count"]);
  EXPECT_EQ(merged["targets"][0]["expired"]["count"], 6);
}

// SIGTERM during a scan: the source stops between pages, the run reports what it saw as
// partial and exits 3 (a fake DynamoDB answers every Scan page slowly and never ends).
TEST(Cli, SigtermStopsRunAsPartial) {
  ttla::testing::TestHttpServer ddb([](const ttla::testing::ReceivedRequest& req) {
    ttla::testing::CannedResponse r;
    r.headers = {{"Content-Type", "application/x-amz-json-1.0"}};
    const auto it = req.headers.find("x-amz-target");
    const std::string op = it == req.headers.end() ? "" : it->second;
    if (op.find("DescribeTimeToLive") != std::string::npos) {
      r.body = R"({"TimeToLiveDescription":{"TimeToLiveStatus":"ENABLED","AttributeName":"ttl"}})";
    } else if (op.find("DescribeTable") != std::string::npos) {
      r.body = R"({"Table":{"TableName":"T","TableStatus":"ACTIVE","ItemCount":1000000,)"
               R"("TableSizeBytes":100000000,"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],)"
               R"("AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}]}})";
    } else {
      r.stall_ms = 100;
      r.body = R"({"Items":[{"pk":{"S":"a"},"ttl":{"N":"1700000000"}},{"pk":{"S":"b"}}],)"
               R"("Count":2,"ScannedCount":2,"LastEvaluatedKey":{"pk":{"S":"b"}},)"
               R"("ConsumedCapacity":{"TableName":"T","CapacityUnits":0.5}})";
    }
    return r;
  });
  TempDir tmp;
  write(tmp / "config.yaml",
        "targets:\n  - {name: sessions, kind: dynamodb, table: T, region: us-east-1, segments: 1,\n"
        "     endpoint_url: \"" + ddb.url("") + "\"}\n");
  const std::string report = tmp / "report.json";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    const std::string err = tmp / "err";
    if (freopen(err.c_str(), "w", stderr) == nullptr) _exit(126);
    execl(TTLA_BINARY, TTLA_BINARY, "run", "--config", (tmp / "config.yaml").c_str(), "--report",
          report.c_str(), "--no-progress", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until the scan is under way (a few pages served), then stop it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (ddb.requests().size() < 5 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GE(ddb.requests().size(), 5u) << ttla::testing::read_file(tmp / "err");
  kill(pid, SIGTERM);
  int status = 0;
  bool exited = false;
  while (std::chrono::steady_clock::now() < deadline + std::chrono::seconds(10)) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL() << "run did not stop after SIGTERM\n" << ttla::testing::read_file(tmp / "err");
  }
  ASSERT_TRUE(WIFEXITED(status)) << ttla::testing::read_file(tmp / "err");
  EXPECT_EQ(WEXITSTATUS(status), 3) << ttla::testing::read_file(tmp / "err");
  const auto j = nlohmann::json::parse(ttla::testing::read_file(report));
  EXPECT_EQ(j["targets"][0]["status"], "partial");
  EXPECT_GT(j["targets"][0]["scan"]["items_scanned"].get<int>(), 0);
  EXPECT_EQ(j["run"]["status"], "partial");
}

}  // namespace
