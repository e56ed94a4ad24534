// Deletion latency from a DynamoDB stream, end to end through the real binary against moto
// (scripts/servers/moto.sh), which serves DynamoDB Streams (DescribeStream, GetShardIterator,
// GetRecords) on its one endpoint. moto runs no TTL process, so every REMOVE it records is a
// user delete without userIdentity: the audit must read the stream without error and take none
// of them for a TTL deletion. (The TTL-service REMOVE shape is covered by the recorded page in
// tests/unit/sources/dynamodb_stream_test.cc; a denied stream by aws_roles_iam_test.)
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/files.h"
#include "support/report_json.h"
#include "support/report_schema.h"
#include "support/require.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPython = "/usr/bin/python3";

using ttla::testing::find_target;
using ttla::testing::read_file;
using ttla::testing::shell;

class StreamLatency : public ::testing::Test {
 protected:
  void SetUp() override {
    TTLA_REQUIRE_ENV(endpoint_, "TTLA_MOTO_ENDPOINT", "start scripts/servers/moto.sh");
    suffix_ = std::to_string(getpid()) + "-" +
              std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    dir_ = fs::temp_directory_path() / ("ttla-stream-" + suffix_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty() && !std::getenv("TTLA_KEEP_TEST_DIR")) fs::remove_all(dir_);
  }

  // Creates the table (tests/tools/moto_stream_table.py); returns its name.
  std::string table(const std::string& base, const json& spec) {
    json s = spec;
    s["endpoint"] = endpoint_;
    s["name"] = base + "-" + suffix_;
    std::ofstream(dir_ / (base + ".json")) << s.dump();
    const std::string out = (dir_ / (base + ".out")).string();
    const std::string cmd = std::string(kPython) + " '" + TTLA_SOURCE_DIR +
                            "/tests/tools/moto_stream_table.py' < '" +
                            (dir_ / (base + ".json")).string() + "' > '" + out + "' 2>&1";
    EXPECT_EQ(shell(cmd), 0) << read_file(out);
    return s["name"];
  }

  int run(const std::string& targets_yaml, json* report) {
    std::ofstream(dir_ / "config.yaml") << "defaults:\n  region: us-east-1\n  endpoint_url: " +
                                               endpoint_ + "\n  cloudwatch: false\ntargets:\n" +
                                               targets_yaml;
    const std::string cmd =
        std::string("AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
                    "AWS_EC2_METADATA_DISABLED=true '") +
        TTLA_BINARY + "' run --config '" + (dir_ / "config.yaml").string() + "' --report '" +
        (dir_ / "report.json").string() + "' --log-level debug > '" + (dir_ / "run.log").string() +
        "' 2>&1";
    const int rc = shell(cmd);
    log_ = read_file(dir_ / "run.log");
    *report = json::parse(read_file(dir_ / "report.json"), nullptr, false);
    return rc;
  }

  static std::string target(const std::string& name, const std::string& table,
                            const std::string& extra = "") {
    return "  - {name: " + name + ", kind: dynamodb, table: " + table + extra + "}\n";
  }

  int count_stream_calls(const std::string& host_op) const {
    int n = 0;
    for (size_t at = log_.find(host_op); at != std::string::npos; at = log_.find(host_op, at + 1)) ++n;
    return n;
  }

  std::string endpoint_;
  std::string suffix_;
  fs::path dir_;
  std::string log_;
};

TEST_F(StreamLatency, ReadsTheStreamAndTakesNoUserDeleteForTtl) {
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  // 12 items (8 expired an hour ago, 4 expiring tomorrow), 3 modified, 5 deleted by the test.
  std::vector<int64_t> ttl;
  for (int i = 0; i < 12; ++i) ttl.push_back(i < 8 ? now - 3600 - i : now + 86400 + i);
  const json writes = {{"items", ttl}, {"modify", 3}, {"delete", 5}};
  json with = writes, without = writes, keys = writes;
  with["stream"] = "NEW_AND_OLD_IMAGES";
  keys["stream"] = "KEYS_ONLY";
  const std::string streamed = table("streamed", with);
  const std::string plain = table("plain", without);
  const std::string keys_only = table("keys", keys);
  const std::string off = table("off", with);

  json report;
  run(target("streamed", streamed) + target("plain", plain) + target("keys", keys_only) +
          target("off", off, ", latency_stream: false"),
      &report);
  ASSERT_FALSE(report.is_discarded()) << log_.substr(0, 4000);
  EXPECT_TRUE(ValidatesAgainstReportSchema(report));

  const json* s = find_target(report, "streamed");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->value("status", ""), "ok") << s->dump(1);
  ASSERT_TRUE(s->contains("deletion")) << s->dump(1);
  const json& d = (*s)["deletion"];
  ASSERT_TRUE(d.contains("latency_stream")) << d.dump(1);
  const json& ls = d["latency_stream"];
  EXPECT_FALSE(ls.contains("error")) << ls.dump(1);
  EXPECT_FALSE(d.contains("latency_stream_error")) << d.dump(1);
  EXPECT_EQ(ls["view_type"], "NEW_AND_OLD_IMAGES");
  EXPECT_NE(ls["stream_arn"].get<std::string>().find("/stream/"), std::string::npos);
  EXPECT_EQ(ls["shards"].get<int>(), 1);
  EXPECT_EQ(ls["records"].get<int>(), 12 + 3 + 5);  // INSERTs, MODIFYs, REMOVEs
  EXPECT_EQ(ls["user_deletions"].get<int>(), 5);
  EXPECT_EQ(ls["ttl_deletions"].get<int>(), 0);
  EXPECT_EQ(ls["ttl_not_seconds"].get<int>(), 0);
  // No TTL deletion, no snapshot tracking (no state_dir): no latency to show, and none invented.
  EXPECT_EQ(d["latency_source"], "stream");
  EXPECT_EQ(d["latency_observations"].get<int>(), 0);
  EXPECT_FALSE(d.contains("latency_seconds_quantiles")) << d.dump(1);
  // DescribeStream, GetShardIterator, then GetRecords until the open shard's page comes back empty.
  const int calls = ls["requests"].get<int>();
  EXPECT_GE(calls, 4);
  EXPECT_EQ(count_stream_calls("op=DescribeStream status=200"), 1) << log_.substr(0, 3000);
  EXPECT_EQ(count_stream_calls("op=GetShardIterator status=200"), 1);
  EXPECT_EQ(count_stream_calls("op=GetRecords status=200"), calls - 2);
  EXPECT_EQ((*s)["expired"]["count"].get<int>(), 7);  // k0..k7 expired, k7..k11 deleted

  // Same items, no stream: no stream call at all, the rest of the audit identical.
  const json* p = find_target(report, "plain");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->value("status", ""), "ok") << p->dump(1);
  EXPECT_FALSE(p->contains("deletion")) << p->dump(1);
  EXPECT_EQ((*p)["scan"]["requests"].get<int>() + calls, (*s)["scan"]["requests"].get<int>());
  EXPECT_EQ((*p)["expired"]["count"], (*s)["expired"]["count"]);

  // A stream without old images: said, not read.
  const json* k = find_target(report, "keys");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->value("status", ""), "ok");
  EXPECT_EQ((*k)["deletion"]["latency_stream"]["view_type"], "KEYS_ONLY") << k->dump(1);
  EXPECT_FALSE((*k)["deletion"]["latency_stream"].contains("requests"));
  EXPECT_EQ((*k)["scan"]["requests"], (*p)["scan"]["requests"]);

  // latency_stream: false never reads it.
  const json* o = find_target(report, "off");
  ASSERT_NE(o, nullptr);
  EXPECT_FALSE(o->contains("deletion")) << o->dump(1);
  EXPECT_EQ((*o)["scan"]["requests"], (*p)["scan"]["requests"]);
}

}  // namespace
