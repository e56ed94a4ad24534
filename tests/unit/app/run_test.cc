// The run pipeline in-process: failure isolation between targets, exit codes, history, shards.
#include <ctime>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "app/cli.h"
#include "app/run.h"
#include "checks/history.h"
#include "core/time.h"
#include "sources/dynamodb_kind.h"
#include "sources/filesystem_kind.h"
#include "support/files.h"

namespace fs = std::filesystem;

namespace ttla {
namespace {

// Scratch folders named after this test file.
struct TempDir : ttla::testing::TempDir {
  TempDir() : ttla::testing::TempDir("ttla-run") {}
};

// A directory with `n` files last modified `age_seconds` ago.
void make_old_files(const std::string& dir, int n, int64_t age_seconds) {
  const auto now = static_cast<time_t>(now_seconds());
  for (int i = 0; i < n; ++i) {
    const std::string p = dir + "/f" + std::to_string(i) + ".bin";
    std::ofstream(p) << "payload " << i;
    timespec times[2];
    times[0].tv_sec = times[1].tv_sec = now - age_seconds;
    times[0].tv_nsec = times[1].tv_nsec = 0;
    ASSERT_EQ(utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
  }
}

TargetConfig fs_target(const std::string& name, const std::string& dir) {
  TargetConfig t;
  t.name = name;
  t.kind = "filesystem";
  filesystem_config(t).path = dir;
  t.retention = 86400;
  return t;
}

const TargetReport* by_name(const Report& r, const std::string& name) {
  for (const auto& t : r.targets) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

bool has_rule(const TargetReport& t, const std::string& rule) {
  for (const auto& a : t.anomalies) {
    if (a.rule == rule) return true;
  }
  return false;
}

TEST(RunAudit, UnregisteredKindFailsAloneOthersAudited) {
  TempDir dir;
  make_old_files(dir.path(), 3, 10 * 86400);
  Config c;
  TargetConfig ghost;
  ghost.name = "ghost";
  ghost.kind = "nosuchkind";
  c.targets.push_back(ghost);
  c.targets.push_back(fs_target("images", dir.path()));

  const Report r = run_audit(c, RunOptions{});
  ASSERT_EQ(r.targets.size(), 2u);
  const auto* g = by_name(r, "ghost");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->status, Status::kFailed);
  EXPECT_EQ(g->error.value_or(""), "kind nosuchkind not available in this build");
  EXPECT_TRUE(has_rule(*g, "target_failed"));
  const auto* images = by_name(r, "images");
  ASSERT_NE(images, nullptr);
  EXPECT_EQ(images->status, Status::kOk) << images->error.value_or("");
  EXPECT_EQ(images->stats.expired_count(), 3u);
  EXPECT_EQ(r.run.status, Status::kFailed);
  EXPECT_EQ(run_exit_code(r, "critical", false), 3);
  EXPECT_TRUE(std::regex_match(r.run.id, std::regex("[0-9a-f]{16}")));
}

TEST(RunAudit, UnreachableEndpointFailsWithReasonOthersAudited) {
  TempDir dir;
  make_old_files(dir.path(), 2, 3 * 86400);
  setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
  Config c;
  TargetConfig d;
  d.name = "sessions";
  d.kind = "dynamodb";
  dynamodb_config(d).table = "UploadSessions";
  d.region = "us-east-1";
  d.endpoint_url = "http://127.0.0.1:1";
  c.targets.push_back(d);
  c.targets.push_back(fs_target("images", dir.path()));

  const auto t0 = std::chrono::steady_clock::now();
  const Report r = run_audit(c, RunOptions{});
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(r.targets.size(), 2u);
  const auto* s = by_name(r, "sessions");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->status, Status::kFailed);
  ASSERT_TRUE(s->error);
  EXPECT_FALSE(s->error->empty());
  EXPECT_TRUE(has_rule(*s, "target_failed"));
  const auto* images = by_name(r, "images");
  ASSERT_NE(images, nullptr);
  EXPECT_EQ(images->status, Status::kOk);
  EXPECT_EQ(images->stats.expired_count(), 2u);
  EXPECT_EQ(run_exit_code(r, "never", false), 3);
  EXPECT_LT(secs, 60.0);
  std::cerr << "unreachable endpoint: failed in " << secs << " s, reason: " << *s->error << "\n";
}

TEST(RunAudit, CancelledBeforeStartMarksTargetsFailed) {
  TempDir dir;
  Config c;
  c.targets.push_back(fs_target("a", dir.path()));
  std::atomic<bool> cancel{true};
  RunOptions o;
  o.cancel = &cancel;
  const Report r = run_audit(c, o);
  ASSERT_EQ(r.targets.size(), 1u);
  EXPECT_EQ(r.targets[0].status, Status::kFailed);
  EXPECT_NE(r.targets[0].error.value_or("").find("cancelled"), std::string::npos);
}

TEST(RunAudit, SelectionAsOfAndHistory) {
  TempDir dir, state;
  make_old_files(dir.path(), 1, 2 * 86400);
  Config c;
  c.targets.push_back(fs_target("a", dir.path()));
  c.targets.push_back(fs_target("b", dir.path()));
  EXPECT_EQ(unknown_targets(c, {"a", "zz", "b"}), std::vector<std::string>{"zz"});

  RunOptions o;
  o.targets = {"b"};
  o.as_of = 1700000000;
  o.state_dir = state.path();
  o.run_id = "00000000000000aa";
  // An audit as of 2023 is not at the current time: it records history only when asked.
  run_audit(c, o);
  EXPECT_TRUE(HistoryStore(state.path()).load("b").empty()) << "a what-if run recorded history";
  o.record_history = true;
  const Report r1 = run_audit(c, o);
  ASSERT_EQ(r1.targets.size(), 1u);
  EXPECT_EQ(r1.targets[0].name, "b");
  EXPECT_EQ(r1.run.as_of, 1700000000);
  EXPECT_EQ(r1.run.id, "00000000000000aa");
  run_audit(c, o);
  EXPECT_EQ(HistoryStore(state.path()).load("b").size(), 2u);
  EXPECT_TRUE(HistoryStore(state.path()).load("a").empty());

  // A shard sees part of a target; it must not write history.
  o.shard = std::make_pair(0, 2);
  const Report r3 = run_audit(c, o);
  EXPECT_EQ(r3.run.shard.value_or(""), "0/2");
  EXPECT_EQ(HistoryStore(state.path()).load("b").size(), 2u);
}

TEST(RunAudit, OnlyRunsAtTheCurrentTimeRecordHistory) {
  TempDir dir, state;
  make_old_files(dir.path(), 1, 2 * 86400);
  Config c;
  c.targets.push_back(fs_target("a", dir.path()));
  RunOptions o;
  o.state_dir = state.path();
  run_audit(c, o);  // now
  EXPECT_EQ(HistoryStore(state.path()).load("a").size(), 1u);
  const auto now = static_cast<int64_t>(std::time(nullptr));
  o.as_of = now - 30;  // within a minute of now: the current time
  run_audit(c, o);
  EXPECT_EQ(HistoryStore(state.path()).load("a").size(), 2u);
  o.as_of = now + 7 * 86400;  // "what will be overdue next week"
  run_audit(c, o);
  EXPECT_EQ(HistoryStore(state.path()).load("a").size(), 2u) << "a what-if run distorted history";
  o.record_history = true;  // a backfill asks for it
  run_audit(c, o);
  EXPECT_EQ(HistoryStore(state.path()).load("a").size(), 3u);
  EXPECT_TRUE(may_record_state(now, static_cast<double>(now) + 59, false));
  EXPECT_FALSE(may_record_state(now, static_cast<double>(now) + 61, false));
  EXPECT_TRUE(may_record_state(now, static_cast<double>(now) + 3600, true));
}

Report report_with(Status status, const std::string& severity) {
  Report r;
  TargetReport t;
  t.name = "t";
  t.kind = "dynamodb";
  t.status = status;
  if (!severity.empty()) t.anomalies.push_back({"expired_backlog", severity, "m", 1, 1});
  r.targets.push_back(t);
  return r;
}

TEST(RunExitCode, PrecedenceThreeOverOneOverZero) {
  EXPECT_EQ(run_exit_code(report_with(Status::kOk, ""), "critical", false), 0);
  EXPECT_EQ(run_exit_code(report_with(Status::kOk, "warning"), "critical", false), 0);
  EXPECT_EQ(run_exit_code(report_with(Status::kOk, "warning"), "warning", false), 1);
  EXPECT_EQ(run_exit_code(report_with(Status::kOk, "critical"), "critical", false), 1);
  EXPECT_EQ(run_exit_code(report_with(Status::kOk, "critical"), "never", false), 0);
  EXPECT_EQ(run_exit_code(report_with(Status::kPartial, "critical"), "critical", false), 3);
  EXPECT_EQ(run_exit_code(report_with(Status::kFailed, ""), "never", false), 3);
  EXPECT_EQ(run_exit_code(report_with(Status::kOk, "critical"), "critical", true), 3);
}

TEST(Shard, ParsesExplicitAndAuto) {
  std::string why;
  EXPECT_EQ(parse_shard("0/4", nullptr, why), std::make_pair(0, 4));
  EXPECT_EQ(parse_shard("3/4", nullptr, why), std::make_pair(3, 4));
  EXPECT_EQ(parse_shard("auto/8", "5", why), std::make_pair(5, 8));
  EXPECT_FALSE(parse_shard("4/4", nullptr, why));
  EXPECT_NE(why.find("out of range"), std::string::npos);
  EXPECT_FALSE(parse_shard("auto/8", nullptr, why));
  EXPECT_NE(why.find("JOB_COMPLETION_INDEX"), std::string::npos);
  EXPECT_FALSE(parse_shard("auto/8", "9", why));
  EXPECT_FALSE(parse_shard("auto/8", "x", why));
  EXPECT_FALSE(parse_shard("1", nullptr, why));
  EXPECT_FALSE(parse_shard("-1/4", nullptr, why));
  EXPECT_FALSE(parse_shard("1/0", nullptr, why));
}

TEST(RunId, SixteenHexAndFresh) {
  const std::string a = new_run_id(), b = new_run_id();
  EXPECT_TRUE(std::regex_match(a, std::regex("[0-9a-f]{16}")));
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace ttla
