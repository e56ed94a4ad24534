// Report file, --report-dir, --envelope lambda, --textfile and publish()'s error isolation.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "sinks/metrics.h"
#include "sinks/report_sink.h"
#include "sinks/sinks.h"
#include "sinks/textfile_sink.h"
#include "sinks_test_dir.h"
#include "sinks_test_report.h"

namespace ttla {
namespace {

namespace fs = std::filesystem;

class FileSinks : public testing::SinkTestDir {};

TEST_F(FileSinks, ReportFileIsPrettyContractJson) {
  SinkOptions o;
  o.report_file = (dir_ / "report.json").string();
  auto errors = publish(testing::crafted_report(), o);
  ASSERT_TRUE(errors.empty()) << errors.front();
  std::string text = slurp(o.report_file);
  EXPECT_NE(text.find("\n  \"run\""), std::string::npos) << "pretty-printed with 2 spaces";
  auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["run"]["id"], "0123abcd-4567-89ef-0000-000000000000");
  ASSERT_EQ(j["targets"].size(), 4u);
  EXPECT_EQ(j["targets"][0]["name"], "sessions");
  EXPECT_EQ(j["targets"][3]["status"], "failed");
  // Only the report: no temp file and no lock file left behind.
  EXPECT_EQ(names(), (std::vector<std::string>{"report.json"}));
}

TEST_F(FileSinks, ReportDirWritesTimestampedFileAndLatest) {
  SinkOptions o;
  o.report_dir = (dir_ / "reports").string();  // created on demand
  auto report = testing::crafted_report();
  EXPECT_EQ(report_dir_file_name(report), "ttl-auditor-20261118T110807Z-0123abcd.json");
  ASSERT_TRUE(publish(report, o).empty());
  fs::path stamped = fs::path(o.report_dir) / "ttl-auditor-20261118T110807Z-0123abcd.json";
  fs::path latest = fs::path(o.report_dir) / "latest.json";
  ASSERT_TRUE(fs::exists(stamped));
  ASSERT_TRUE(fs::exists(latest));
  EXPECT_FALSE(fs::is_symlink(latest));
  EXPECT_EQ(slurp(stamped), slurp(latest));

  // A second run: a new timestamped file, latest.json follows it, the first file stays.
  report.run.id = "ffffeeee-1";
  report.run.started_at += 3600;
  report.targets.pop_back();
  ASSERT_TRUE(publish(report, o).empty());
  fs::path second = fs::path(o.report_dir) / "ttl-auditor-20261118T120807Z-ffffeeee.json";
  ASSERT_TRUE(fs::exists(second));
  EXPECT_TRUE(fs::exists(stamped));
  EXPECT_EQ(slurp(second), slurp(latest));
  EXPECT_EQ(nlohmann::json::parse(slurp(latest))["targets"].size(), 3u);
  size_t files = 0;
  for (auto& e : fs::directory_iterator(o.report_dir)) files += e.path().extension() == ".json";
  EXPECT_EQ(files, 3u);
}

TEST_F(FileSinks, LambdaEnvelopeShape) {
  SinkOptions o;
  o.report_file = (dir_ / "lambda.json").string();
  o.envelope = "lambda";
  ASSERT_TRUE(publish(testing::crafted_report(), o).empty());
  auto j = nlohmann::json::parse(slurp(o.report_file));
  EXPECT_EQ(j["statusCode"], 200);
  const auto& body = j["body"];
  ASSERT_TRUE(body.is_object());
  for (const char* k : {"message", "summary", "expired_stats", "table_metrics"}) {
    EXPECT_TRUE(body.contains(k)) << k;
  }
  EXPECT_EQ(body["summary"]["targets"], 4);
  EXPECT_EQ(body["summary"]["failed_targets"], 1);
  EXPECT_EQ(body["summary"]["expired_total"], 3 + 1200 + 1);
  // First target: sessions. oldest_ttl = as_of - oldest overdue.
  EXPECT_EQ(body["expired_stats"]["count"], 3);
  EXPECT_EQ(body["expired_stats"]["oldest_ttl"], 1795000000.0 - 864000);
  EXPECT_EQ(body["expired_stats"]["newest_ttl"], 1795000000.0 - 1800);
  EXPECT_EQ(body["expired_stats"]["sample_items"].size(), 3u);
  EXPECT_EQ(body["table_metrics"]["item_count"], 1000);
  EXPECT_EQ(body["table_metrics"]["ttl_status"], "ENABLED");
  ASSERT_EQ(body["targets"].size(), 4u);
  EXPECT_TRUE(body["targets"][2]["table_metrics"].is_null());  // s3 has no table
  EXPECT_EQ(body["targets"][1]["expired_stats"]["estimated"], true);

  o.envelope = "bogus";
  auto errors = publish(testing::crafted_report(), o);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("envelope"), std::string::npos);
}

TEST_F(FileSinks, TextfileReplacedByRenameAndReadersNeverSeeATornFile) {
  fs::path prom = dir_ / "ttl_auditor.prom";
  auto a = testing::crafted_report();
  auto b = a;
  b.targets.erase(b.targets.begin(), b.targets.begin() + 2);  // different size and content
  write_textfile(a, prom.string());
  std::string text_a = slurp(prom);
  write_textfile(b, prom.string());
  std::string text_b = slurp(prom);
  ASSERT_NE(text_a, text_b);

  // Hold the current file open: with rename it keeps its inode and content (and the inode cannot
  // be reused for a later file); an in-place rewrite would change what this descriptor reads.
  int held = ::open(prom.c_str(), O_RDONLY);
  ASSERT_GE(held, 0);
  struct stat before {};
  ASSERT_EQ(::fstat(held, &before), 0);
  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, torn{0};
  std::thread reader([&] {
    while (!done) {
      std::string t = slurp(prom);
      ++reads;
      // The previous textfile carries last_success values over, so `a` written after `b` keeps
      // its own text; compare on what can legitimately be there.
      if (t != text_a && t != text_b) ++torn;
    }
  });
  for (int i = 0; i < 100; ++i) write_textfile(i % 2 ? b : a, prom.string());
  done = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(torn.load(), 0) << "a reader saw a partial or mixed file";
  struct stat after {};
  ASSERT_EQ(::stat(prom.c_str(), &after), 0);
  EXPECT_NE(before.st_ino, after.st_ino) << "file must be replaced by rename, not rewritten";
  std::string held_text(text_b.size() + 16, '\0');
  ssize_t n = ::pread(held, held_text.data(), held_text.size(), 0);
  ::close(held);
  ASSERT_GE(n, 0);
  held_text.resize(static_cast<size_t>(n));
  EXPECT_EQ(held_text, text_b) << "the replaced file's content must be untouched";
  EXPECT_EQ(names(), std::vector<std::string>{"ttl_auditor.prom"});
}

TEST_F(FileSinks, TextfileKeepsLastSuccessOfAFailedTarget) {
  fs::path prom = dir_ / "t.prom";
  auto ok = testing::crafted_report();
  write_textfile(ok, prom.string());
  ASSERT_EQ(parse_last_success(slurp(prom)).at("sessions"), 1795000100);

  auto failed = ok;
  failed.run.finished_at += 3600;
  failed.targets[0].status = Status::kFailed;
  failed.targets[0].anomalies = {{"target_failed", "critical", "x", 0, 0}};
  write_textfile(failed, prom.string());
  std::string text = slurp(prom);
  EXPECT_NE(text.find(R"(ttl_auditor_target_success{kind="dynamodb",target="sessions"} 0)"),
            std::string::npos);
  EXPECT_EQ(parse_last_success(text).at("sessions"), 1795000100) << "unchanged by a failed run";
  EXPECT_EQ(parse_last_success(text).at("uploads"), 1795003700) << "advanced by the success";
}

TEST_F(FileSinks, OneFailingSinkDoesNotStopTheOthers) {
  SinkOptions o;
  o.report_file = (dir_ / "r.json").string();
  fs::create_directories(dir_ / "a-directory");
  o.textfile = (dir_ / "a-directory").string();  // refused: a directory is not a file
  auto errors = publish(testing::crafted_report(), o);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("textfile"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("a-directory"), std::string::npos) << errors[0];
  EXPECT_TRUE(fs::exists(o.report_file));
}

TEST_F(FileSinks, NoOutputsNoErrors) {
  EXPECT_TRUE(publish(testing::crafted_report(), SinkOptions{}).empty());
}

}  // namespace
}  // namespace ttla
