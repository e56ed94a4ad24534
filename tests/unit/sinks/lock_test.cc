#include "sinks/lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/error.h"

namespace ttla {
namespace {

namespace fs = std::filesystem;

fs::path lock_path(const char* name) {
  return fs::temp_directory_path() / ("ttla-lock-" + std::to_string(::getpid()) + "-" + name);
}

// Forks a child that holds the lock for `hold_ms`; returns its pid once it holds it.
pid_t hold_in_child(const fs::path& path, int hold_ms) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipefd[0]);
    try {
      RunLock lock(path.string(), 0);
      char c = 'x';
      (void)!::write(pipefd[1], &c, 1);
      std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
    } catch (...) {
      ::_exit(1);
    }
    ::_exit(0);
  }
  ::close(pipefd[1]);
  char c;
  (void)!::read(pipefd[0], &c, 1);
  ::close(pipefd[0]);
  return pid;
}

TEST(RunLock, ExcludesAnotherProcessAndWaitsForIt) {
  auto path = lock_path("excl");
  pid_t child = hold_in_child(path, 800);
  ASSERT_GT(child, 0);
  try {
    RunLock busy(path.string(), 0);
    FAIL() << "lock taken while another process holds it";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_NE(std::string(e.what()).find("another ttl-auditor run"), std::string::npos);
  }
  auto start = std::chrono::steady_clock::now();
  {
    RunLock waited(path.string(), 10);
    auto waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - start)
                         .count();
    EXPECT_GT(waited_ms, 300) << "should have waited for the child to release";
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  fs::remove(path);
}

TEST(RunLock, ReentrantInOneProcessAndReleasedOnDestruction) {
  auto path = lock_path("reent");
  {
    RunLock outer(path.string(), 0);
    RunLock inner(path.string(), 0);  // publish() inside the CLI's run-level lock
    EXPECT_EQ(inner.path(), path.string());
  }
  // Released: a child process can take it right away.
  pid_t child = hold_in_child(path, 10);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  fs::remove(path);
}

TEST(RunLock, DefaultPathIsTheOutputsDirectory) {
  SinkOptions o;
  EXPECT_EQ(RunLock::default_path(o), "");
  o.textfile = "/var/lib/node_exporter/textfile/ttl.prom";
  EXPECT_EQ(RunLock::default_path(o), "/var/lib/node_exporter/textfile");
  o.report_file = "out/report.json";
  EXPECT_EQ(RunLock::default_path(o), "out");
  o.report_dir = "/srv/reports";
  EXPECT_EQ(RunLock::default_path(o), "/srv/reports");
  SinkOptions bare;
  bare.report_file = "r.json";
  EXPECT_EQ(RunLock::default_path(bare), ".");
  // A report on stdout needs no lock; the textfile's directory is locked instead.
  SinkOptions streamed;
  streamed.report_file = "-";
  EXPECT_EQ(RunLock::default_path(streamed), "");
  streamed.textfile = "/srv/prom/ttl.prom";
  EXPECT_EQ(RunLock::default_path(streamed), "/srv/prom");
}

TEST(RunLock, DirectoryLockExcludesAnotherProcessAndCreatesNoFile) {
  const fs::path dir = lock_path("dir");
  fs::create_directories(dir);
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(pipefd[0]);
    try {
      RunLock lock(dir.string(), 0, RunLock::Target::kDirectory);
      char c = 'x';
      (void)!::write(pipefd[1], &c, 1);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    } catch (...) {
      ::_exit(1);
    }
    ::_exit(0);
  }
  ::close(pipefd[1]);
  char c;
  ASSERT_EQ(::read(pipefd[0], &c, 1), 1);
  ::close(pipefd[0]);
  EXPECT_THROW(RunLock(dir.string(), 0, RunLock::Target::kDirectory), Error);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  { RunLock after(dir.string(), 0, RunLock::Target::kDirectory); }
  EXPECT_TRUE(fs::is_empty(dir)) << "a directory lock leaves nothing in the directory";
  fs::remove_all(dir);
}

TEST(RunLock, UnopenableLockFileThrows) {
  EXPECT_THROW(RunLock("/proc/ttla-no-such/x.lock", 0), Error);
}

}  // namespace
}  // namespace ttla
