// Filesystem orphans through the real binary against a real PostgreSQL
// (scripts/servers/postgres.sh): a tree of files with known sizes and modification times, a table
// tracking some of them (relative and absolute paths, rows for files that do not exist, NULLs,
// more rows than one FETCH batch), and the report must give exactly the untracked old files. Young
// untracked files are not orphans; names whose byte order differs from a naive sort ("a-b" vs
// "a/", non-ASCII) are matched; a bad DSN or query makes the target partial with the reason while
// the expiry audit stands.
#include <libpq-fe.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sources/fs_orphans.h"
#include "support/files.h"
#include "support/report_json.h"
#include "support/report_schema.h"
#include "support/require.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ttla::testing::find_target;
using ttla::testing::has_line;
using ttla::testing::make_temp_dir;
using ttla::testing::read_file;
using ttla::testing::remove_temp_dir;
using ttla::testing::shell;

constexpr int64_t kDay = 86400;

class FsOrphans : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* dsn = std::getenv("TTLA_PG_DSN");
    if (dsn == nullptr || *dsn == '\0') {
      TTLA_SKIP_OR_FAIL("TTLA_PG_DSN not set: start scripts/servers/postgres.sh");
    }
    dsn_ = dsn;
    conn_ = PQconnectdb(dsn);
    ASSERT_EQ(PQstatus(conn_), CONNECTION_OK) << PQerrorMessage(conn_);
    dir_ = make_temp_dir("ttla-orphans");
    root_ = dir_ / "images";
    fs::create_directories(root_);
    table_ = "uploads_" + std::to_string(getpid());
    as_of_ = static_cast<int64_t>(std::time(nullptr));
  }
  void TearDown() override {
    if (conn_ != nullptr) {
      exec("DROP TABLE IF EXISTS " + table_);
      PQfinish(conn_);
    }
    remove_temp_dir(dir_);
  }

  void exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const auto st = PQresultStatus(r);
    const std::string err = PQresultErrorMessage(r);
    PQclear(r);
    ASSERT_TRUE(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) << err << " in: " << sql;
  }

  // A file of `bytes` bytes last modified `age` seconds before as_of.
  void file(const std::string& rel, size_t bytes, int64_t age) {
    const fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << std::string(bytes, 'x');
    struct timespec times[2];
    times[0].tv_sec = times[1].tv_sec = static_cast<time_t>(as_of_ - age);
    times[0].tv_nsec = times[1].tv_nsec = 0;
    ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0) << p;
  }

  int run(const std::string& targets_yaml, json* report, std::string* metrics) {
    std::ofstream(dir_ / "config.yaml") << "targets:\n" << targets_yaml;
    const std::string cmd = std::string("'") + TTLA_BINARY + "' run --config '" +
                            (dir_ / "config.yaml").string() + "' --as-of " +
                            std::to_string(as_of_) + " --report '" +
                            (dir_ / "report.json").string() + "' --textfile '" +
                            (dir_ / "metrics.prom").string() + "' > '" +
                            (dir_ / "run.log").string() + "' 2>&1";
    const int rc = shell(cmd);
    log_ = read_file(dir_ / "run.log");
    *report = json::parse(read_file(dir_ / "report.json"), nullptr, false);
    *metrics = read_file(dir_ / "metrics.prom");
    return rc;
  }

  std::string target_yaml(const std::string& name, const std::string& dsn,
                          const std::string& query) const {
    json q = query;  // a JSON string is a valid YAML double-quoted scalar
    json d = dsn;
    return "  - name: " + name + "\n    kind: filesystem\n    path: " + root_.string() +
           "\n    retention: 7d\n    orphans:\n      dsn: " + d.dump() + "\n      query: " +
           q.dump() + "\n      min_age: 1d\n";
  }

  std::string dsn_;
  PGconn* conn_ = nullptr;
  fs::path dir_, root_;
  std::string table_;
  int64_t as_of_ = 0;
  std::string log_;
};

TEST_F(FsOrphans, UntrackedOldFilesAreExactlyTheOrphans) {
  // Tracked: a/1.jpg (relative), b/c/3.jpg (absolute path under the root), z.jpg, bulk/* (more
  // rows than one FETCH batch). Untracked and old: a/2.jpg, a-b.jpg ('-' sorts before '/'),
  // b/c/4.jpg (the oldest), é.jpg (bytes above 0x7f). Untracked but young: young.jpg, bulk-new.
  file("a/1.jpg", 100, 10 * kDay);
  file("a/2.jpg", 200, 10 * kDay);
  file("a-b.jpg", 300, 5 * kDay);
  file("b/c/3.jpg", 50, 20 * kDay);
  file("b/c/4.jpg", 400, 30 * kDay);
  file("\xc3\xa9.jpg", 10, 3 * kDay);
  file("young.jpg", 999, 3600);
  file("z.jpg", 7, 2 * kDay);
  const int bulk = ttla::kFetchRows * 2 + 17;
  for (int i = 0; i < bulk; ++i) {
    const fs::path p = root_ / "bulk" / ("f" + std::to_string(i));
    if (i == 0) fs::create_directories(p.parent_path());
    std::ofstream(p) << "b";
  }
  exec("CREATE TABLE " + table_ + " (path text)");
  exec("INSERT INTO " + table_ + " VALUES ('a/1.jpg'), ('" + root_.string() +
       "/b/c/3.jpg'), ('z.jpg'), ('a/0-gone.jpg'), ('zz/none'), (NULL)");
  exec("INSERT INTO " + table_ + " SELECT 'bulk/f' || g FROM generate_series(0, " +
       std::to_string(bulk - 1) + ") AS g");
  // bulk files are new (mtime now): tracked anyway; one untracked new file there is young.
  file("bulk-new/n.jpg", 5, 60);

  json report;
  std::string metrics;
  const int rc = run(target_yaml("images", dsn_, "SELECT path FROM " + table_), &report, &metrics);
  ASSERT_FALSE(report.is_discarded()) << log_;
  // b/c/4.jpg is 23 days past its 7d retention: oldest_overdue is critical (orphan_files warns).
  EXPECT_EQ(rc, 1) << log_;
  EXPECT_TRUE(ValidatesAgainstReportSchema(report));
  const json* t = find_target(report, "images");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->value("status", ""), "ok") << t->dump(1);
  ASSERT_TRUE(t->contains("orphans")) << t->dump(1);
  const json& o = (*t)["orphans"];
  EXPECT_EQ(o["count"].get<int>(), 4) << o.dump(1);
  EXPECT_EQ(o["bytes"].get<int>(), 200 + 300 + 400 + 10);
  EXPECT_DOUBLE_EQ(o["oldest_seconds"].get<double>(), 30.0 * kDay);
  EXPECT_EQ(o["sample"], json({"b/c/4.jpg", "a/2.jpg", "a-b.jpg", "\xc3\xa9.jpg"})) << o.dump(1);
  EXPECT_EQ(o["young_files"].get<int>(), bulk + 2);  // young.jpg, bulk-new/n.jpg, bulk/*
  EXPECT_EQ(o["files_checked"].get<int>(), 8 - 1);
  // The expiry audit is unchanged beside it: 7d retention -> a/1, a/2, b/c/3, b/c/4.
  EXPECT_EQ((*t)["expired"]["count"].get<int>(), 4);

  bool fired = false;
  for (const auto& a : (*t)["anomalies"]) {
    if (a["rule"] == "orphan_files") {
      fired = true;
      EXPECT_EQ(a["severity"], "warning");
      EXPECT_DOUBLE_EQ(a["value"].get<double>(), 4);
    }
  }
  EXPECT_TRUE(fired) << t->dump(1);
  EXPECT_TRUE(has_line(metrics, "ttl_auditor_orphan_files{kind=\"filesystem\",target=\"images\"} 4"))
      << metrics;
  EXPECT_TRUE(has_line(metrics, "ttl_auditor_orphan_bytes{kind=\"filesystem\",target=\"images\"} 910"));
  EXPECT_TRUE(has_line(
      metrics,
      "ttl_auditor_anomaly{kind=\"filesystem\",rule=\"orphan_files\",severity=\"warning\",target=\"images\"} 1"));
}

TEST_F(FsOrphans, BadDsnOrQueryMakesTheTargetPartialWithTheReason) {
  file("old.jpg", 10, 9 * kDay);
  exec("CREATE TABLE " + table_ + " (path text)");
  json report;
  std::string metrics;
  // `writes`: a query that would lock rows is refused by the server inside the READ ONLY
  // transaction the orphans query shares with the postgres source.
  const int rc = run(
      target_yaml("bad_dsn", "host=127.0.0.1 port=1 dbname=none connect_timeout=2", "SELECT 1") +
          target_yaml("bad_query", dsn_, "SELECT path FROM no_such_table_" + table_) +
          target_yaml("writes", dsn_, "SELECT path FROM " + table_ + " FOR UPDATE"),
      &report, &metrics);
  ASSERT_FALSE(report.is_discarded()) << log_;
  EXPECT_EQ(rc, 3) << "a partial target exits 3\n" << log_;
  EXPECT_TRUE(ValidatesAgainstReportSchema(report));
  const json* bad_dsn = find_target(report, "bad_dsn");
  ASSERT_NE(bad_dsn, nullptr);
  EXPECT_EQ(bad_dsn->value("status", ""), "partial") << bad_dsn->dump(1);
  EXPECT_NE((*bad_dsn)["error"].get<std::string>().find("orphans: network: cannot connect"),
            std::string::npos)
      << bad_dsn->dump(1);
  EXPECT_FALSE((*bad_dsn)["orphans"].contains("count"));
  EXPECT_EQ((*bad_dsn)["expired"]["count"].get<int>(), 1);  // the expiry audit stands

  const json* bad_query = find_target(report, "bad_query");
  ASSERT_NE(bad_query, nullptr);
  EXPECT_EQ(bad_query->value("status", ""), "partial") << bad_query->dump(1);
  EXPECT_NE((*bad_query)["error"].get<std::string>().find("no_such_table_" + table_),
            std::string::npos)
      << bad_query->dump(1);
  const json* writes = find_target(report, "writes");
  ASSERT_NE(writes, nullptr);
  EXPECT_EQ(writes->value("status", ""), "partial") << writes->dump(1);
  EXPECT_NE((*writes)["error"].get<std::string>().find("read-only transaction"), std::string::npos)
      << writes->dump(1);
  EXPECT_EQ(metrics.find("ttl_auditor_orphan_files{kind=\"filesystem\",target=\"bad_query\"}"),
            std::string::npos)
      << metrics;
}

}  // namespace
