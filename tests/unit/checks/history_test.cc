#include "checks/history.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace ttla {
namespace {

namespace fs = std::filesystem;

class HistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ttla-history-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

HistoryPoint point(double t, double expired, const std::string& status = "ok") {
  return HistoryPoint{t, expired, expired * 10, status};
}

TEST_F(HistoryTest, DisabledWithoutDirectory) {
  HistoryStore store("");
  EXPECT_FALSE(store.enabled());
  store.append("sessions", point(1, 1), 10);  // a no-op, not an error
  EXPECT_TRUE(store.load("sessions").empty());
}

TEST_F(HistoryTest, MissingFileIsEmptyHistory) {
  HistoryStore store(dir_.string());
  EXPECT_TRUE(store.load("sessions").empty());
}

TEST_F(HistoryTest, AppendCreatesDirectoryAndRoundTrips) {
  HistoryStore store((dir_ / "nested").string());
  store.append("sessions", point(100, 5, "ok"), 10);
  store.append("sessions", point(200, 7.5, "partial"), 10);
  store.append("other", point(300, 1), 10);
  auto h = store.load("sessions");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].finished_at, 100);
  EXPECT_EQ(h[0].expired, 5);
  EXPECT_EQ(h[0].oldest_overdue_seconds, 50);
  EXPECT_EQ(h[1].expired, 7.5);
  EXPECT_EQ(h[1].status, "partial");
  EXPECT_EQ(store.load("other").size(), 1u);
  EXPECT_TRUE(fs::exists(dir_ / "nested" / "sessions.jsonl"));
}

TEST_F(HistoryTest, BoundedToKeepNewest) {
  HistoryStore store(dir_.string());
  for (int i = 0; i < 10; ++i) store.append("t", point(i, i), 4);
  auto h = store.load("t");
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h.front().finished_at, 6);
  EXPECT_EQ(h.back().finished_at, 9);
  // No temp files left behind by the atomic replace.
  size_t files = 0;
  for (auto& e : fs::directory_iterator(dir_)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(HistoryTest, CorruptLinesAreSkipped) {
  HistoryStore fixtures(std::string(TTLA_SOURCE_DIR) + "/tests/fixtures/history");
  auto h = fixtures.load("corrupt");
  ASSERT_EQ(h.size(), 3u);  // three valid lines, three broken ones
  EXPECT_EQ(h[0].expired, 10);
  EXPECT_EQ(h[1].expired, 20);
  EXPECT_EQ(h[2].expired, 30);
}

TEST_F(HistoryTest, AppendAfterCorruptionRewritesCleanFile) {
  fs::create_directories(dir_);
  fs::copy_file(std::string(TTLA_SOURCE_DIR) + "/tests/fixtures/history/corrupt.jsonl",
                dir_ / "t.jsonl");
  HistoryStore store(dir_.string());
  store.append("t", point(1795010800, 40), 48);
  std::ifstream in(dir_ / "t.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    EXPECT_EQ(line.front(), '{');
    EXPECT_NE(line.find("\"status\""), std::string::npos) << line;
  }
  EXPECT_EQ(lines, 4);
}

TEST_F(HistoryTest, RejectsNamesThatLeaveTheDirectory) {
  HistoryStore store(dir_.string());
  EXPECT_THROW(store.append("../evil", point(1, 1), 3), Error);
  EXPECT_THROW(store.load("a/b/c"), Error);
  EXPECT_THROW(store.load("a/.."), Error);
  EXPECT_THROW(store.load("../a"), Error);
  EXPECT_THROW(store.load("a/"), Error);
}

// A table discovered by `tables:` (target `parent/table`) keeps its own file in the directory.
TEST_F(HistoryTest, DiscoveredTableTargetsGetTheirOwnFile) {
  HistoryStore store(dir_.string());
  store.append("fleet/Sessions", point(1, 5), 3);
  store.append("fleet/Uploads", point(1, 7), 3);
  EXPECT_TRUE(fs::exists(dir_ / "fleet%2FSessions.jsonl"));
  ASSERT_EQ(store.load("fleet/Sessions").size(), 1u);
  EXPECT_EQ(store.load("fleet/Sessions")[0].expired, 5);
  EXPECT_EQ(store.load("fleet/Uploads")[0].expired, 7);
  EXPECT_TRUE(store.load("fleet").empty());
}

TEST_F(HistoryTest, UnwritableDirectoryThrowsIo) {
  if (::geteuid() == 0) {
    // root ignores permissions; use a path under a regular file instead.
    fs::create_directories(dir_);
    std::ofstream(dir_ / "file") << "x";
    HistoryStore store((dir_ / "file" / "sub").string());
    try {
      store.append("t", point(1, 1), 3);
      FAIL() << "expected ttla::Error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kIo);
    }
    return;
  }
  fs::create_directories(dir_);
  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
  HistoryStore store(dir_.string());
  EXPECT_THROW(store.append("t", point(1, 1), 3), Error);
  fs::permissions(dir_, fs::perms::owner_all);
}

TEST(HistoryPointTest, FromReport) {
  TargetReport t;
  t.status = Status::kPartial;
  t.stats.add_expired("k", 1, 500, 1, "");
  t.stats.add_expired("k2", 1, 900, 1, "");
  auto p = history_point(t, 1234.5);
  EXPECT_EQ(p.finished_at, 1234.5);
  EXPECT_EQ(p.expired, 2);
  EXPECT_EQ(p.oldest_overdue_seconds, 900);
  EXPECT_EQ(p.status, "partial");
  t.estimated = true;
  t.expired_estimate = 40;
  EXPECT_EQ(history_point(t, 1).expired, 40);
}

}  // namespace
}  // namespace ttla
