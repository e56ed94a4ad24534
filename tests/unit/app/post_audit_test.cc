// The post-audit step shared by run, merge and serve: history recorded under the history lock by
// `run` and `merge` alike, and each sink failure logged exactly once.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "app/cli.h"
#include "app/post_audit.h"
#include "checks/history.h"
#include "support/files.h"

namespace fs = std::filesystem;

namespace ttla {
namespace {

// Scratch folders named after this test file.
struct TempDir : ttla::testing::TempDir {
  TempDir() : ttla::testing::TempDir("ttla-post") {}
};

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

int cli(std::vector<std::string> args) {
  args.insert(args.begin(), "ttl-auditor");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return run_cli(static_cast<int>(argv.size()), argv.data());
}

// Another process holds `path` (flock) for `hold_ms` from the moment this returns.
class LockHolder {
 public:
  LockHolder(const std::string& path, int hold_ms) {
    int ready[2];
    if (::pipe(ready) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
      if (fd < 0 || ::flock(fd, LOCK_EX) != 0) ::_exit(1);
      const char byte = 'x';
      if (::write(ready[1], &byte, 1) != 1) ::_exit(1);
      ::usleep(static_cast<useconds_t>(hold_ms) * 1000);
      ::_exit(0);
    }
    ::close(ready[1]);
    char byte = 0;
    locked_ = ::read(ready[0], &byte, 1) == 1;
    ::close(ready[0]);
  }
  ~LockHolder() {
    int st = 0;
    if (pid_ > 0) ::waitpid(pid_, &st, 0);
  }
  bool locked() const { return locked_; }

 private:
  pid_t pid_ = -1;
  bool locked_ = false;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// `run` and `merge --config` append history through one path, which waits for the history lock
// another run holds: the append happens only after that run lets go.
TEST(PostAudit, MergeWaitsForTheHistoryLockAsRunDoes) {
  TempDir tmp;
  make_old_files(tmp / "images", 3, 10 * 86400);
  fs::create_directories(tmp / "state");
  std::ofstream(tmp / "config.yaml") << "state_dir: " << (tmp / "state") << "\n"
                                     << "targets:\n  - {name: images, kind: filesystem, path: "
                                     << (tmp / "images") << ", retention: 1d}\n";
  const std::string as_of = std::to_string(std::time(nullptr));
  ASSERT_EQ(cli({"run", "--config", tmp / "config.yaml", "--shard", "0/1", "--as-of", as_of,
                 "--report", tmp / "part-0.json", "--fail-on", "never", "--log-level", "off"}),
            0);
  const HistoryStore history(tmp / "state");
  ASSERT_TRUE(history.load("images").empty()) << "a shard run recorded history";
  constexpr int kHoldMs = 1200;

  {
    LockHolder other(history_lock_path(tmp / "state"), kHoldMs);
    ASSERT_TRUE(other.locked());
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(cli({"merge", tmp / "part-0.json", "--report", tmp / "merged.json", "--config",
                   tmp / "config.yaml", "--fail-on", "never", "--log-level", "off"}),
              0);
    EXPECT_GE(seconds_since(t0), 0.8) << "merge appended history while another run held the lock";
  }
  EXPECT_EQ(history.load("images").size(), 1u);

  {
    LockHolder other(history_lock_path(tmp / "state"), kHoldMs);
    ASSERT_TRUE(other.locked());
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(cli({"run", "--config", tmp / "config.yaml", "--report", tmp / "run.json",
                   "--fail-on", "never", "--log-level", "off", "--no-progress"}),
              0);
    EXPECT_GE(seconds_since(t0), 0.8) << "run appended history while another run held the lock";
  }
  EXPECT_EQ(history.load("images").size(), 2u);

  // Without a holder neither waits (the waits above are the lock's, not the audit's).
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(cli({"merge", tmp / "part-0.json", "--report", tmp / "merged.json", "--config",
                 tmp / "config.yaml", "--fail-on", "never", "--log-level", "off"}),
            0);
  EXPECT_LT(seconds_since(t0), 0.8);
  EXPECT_EQ(history.load("images").size(), 3u);
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// A failing sink produces one error in the result and one log line, whichever sink it is.
TEST(PostAudit, SinkFailureLoggedOnce) {
  TempDir tmp;
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  auto logger = std::make_shared<spdlog::logger>("post-audit-test", sink);
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);

  Report report;
  report.run.id = "0000000000000001";
  TargetReport t;
  t.name = "images";
  t.kind = "filesystem";
  report.targets.push_back(t);

  PublishOptions o;
  std::ofstream(tmp / "plain-file") << "x";  // a file where the report's directory should be
  o.sinks.report_file = tmp / "plain-file/report.json";
  Published p = publish_report(report, o);
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(count(captured.str(), "sink failed"), 1u) << captured.str();
  EXPECT_EQ(count(captured.str(), "plain-file"), 1u) << captured.str();

  // A Pushgateway that refuses the connection (nothing listens on port 1).
  captured.str("");
  o = PublishOptions{};
  o.sinks.pushgateway_url = "http://127.0.0.1:1";
  p = publish_report(report, o);
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(count(captured.str(), "pushgateway"), 1u) << captured.str();
  EXPECT_EQ(count(captured.str(), "\n"), 1u) << captured.str();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("off"));
}

}  // namespace
}  // namespace ttla
