// Output destinations (sinks/output.h): `-` and /dev/stdout are the stream, symlinks are written
// where they point, devices/FIFOs/directories are refused before anything is written; and
// --report-dir pruning touches only this tool's timestamped reports.
#include "sinks/output.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "sinks/report_sink.h"
#include "sinks/sinks.h"
#include "sinks_test_dir.h"

namespace ttla {
namespace {

namespace fs = std::filesystem;

class Output : public testing::SinkTestDir {};

// Runs `fn` with stdout redirected into a pipe; returns what was written to it.
template <typename Fn>
std::string capture_stdout(Fn&& fn) {
  std::fflush(stdout);
  int pipefd[2];
  EXPECT_EQ(::pipe(pipefd), 0);
  const int saved = ::dup(STDOUT_FILENO);
  ::dup2(pipefd[1], STDOUT_FILENO);
  ::close(pipefd[1]);
  fn();
  std::fflush(stdout);
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  return out;
}

TEST_F(Output, DashIsStdoutAndNoFileNamedDash) {
  const fs::path cwd = fs::current_path();
  fs::current_path(dir_);
  const std::string out = capture_stdout([] {
    EXPECT_EQ(write_output("-", "{\"a\":1}\n").describe(), "stdout");
  });
  fs::current_path(cwd);
  EXPECT_EQ(out, "{\"a\":1}\n");
  EXPECT_TRUE(names(dir_).empty()) << "no file named - (or anything else) created";
}

TEST_F(Output, DevStdoutIsWrittenAsTheStreamAndStaysASymlink) {
  ASSERT_TRUE(fs::is_symlink("/dev/stdout"));
  // A symlink of our own to stdout's magic link, like a user's shortcut to a terminal or pipe.
  fs::create_symlink("/proc/self/fd/1", dir_ / "to-stdout");
  const std::string out = capture_stdout([&] {
    EXPECT_TRUE(resolve_output("/dev/stdout").is_stream());
    write_output("/dev/stdout", "one\n");
    write_output((dir_ / "to-stdout").string(), "two\n");
  });
  EXPECT_EQ(out, "one\ntwo\n");
  EXPECT_TRUE(fs::is_symlink("/dev/stdout")) << "/dev/stdout must survive as a symlink";
  EXPECT_TRUE(fs::is_symlink(dir_ / "to-stdout"));
  EXPECT_FALSE(fs::exists("/dev/.ttl-auditor.lock"));
}

TEST_F(Output, SymlinkIsWrittenWhereItPointsAtomically) {
  fs::create_directories(dir_ / "links");
  fs::create_directories(dir_ / "real");
  std::ofstream(dir_ / "real" / "report.json") << "old";
  fs::create_symlink("../real/report.json", dir_ / "links" / "report.json");
  const OutputDestination d = write_output((dir_ / "links" / "report.json").string(), "new\n");
  EXPECT_EQ(fs::path(d.path), fs::path(dir_ / "real" / "report.json").lexically_normal());
  EXPECT_TRUE(fs::is_symlink(dir_ / "links" / "report.json")) << "the link is kept";
  EXPECT_EQ(slurp(dir_ / "real" / "report.json"), "new\n");
  EXPECT_EQ(names(dir_ / "links"), std::vector<std::string>{"report.json"});
  EXPECT_EQ(names(dir_ / "real"), std::vector<std::string>{"report.json"}) << "no temp file left";

  // A dangling link (first run) creates the file it names.
  fs::create_symlink(dir_ / "real" / "first.json", dir_ / "links" / "first.json");
  write_output((dir_ / "links" / "first.json").string(), "x");
  EXPECT_EQ(slurp(dir_ / "real" / "first.json"), "x");
  EXPECT_TRUE(fs::is_symlink(dir_ / "links" / "first.json"));
}

TEST_F(Output, DirectoryFifoAndDeviceAreRefused) {
  ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  fs::create_symlink(dir_ / "fifo", dir_ / "to-fifo");
  for (const std::string& p : {dir_.string(), (dir_ / "fifo").string(), (dir_ / "to-fifo").string(),
                              std::string("/dev/zero")}) {
    try {
      write_output(p, "x");
      ADD_FAILURE() << p << " was written";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kConfig) << p;
      EXPECT_NE(std::string(e.what()).find("refusing to replace it"), std::string::npos) << e.what();
    }
    ASSERT_TRUE(output_problem(p).has_value()) << p;
  }
  EXPECT_NE(output_problem(dir_.string())->find("is a directory"), std::string::npos);
  EXPECT_NE(output_problem((dir_ / "fifo").string())->find("FIFO"), std::string::npos);
  EXPECT_NE(output_problem("/dev/zero")->find("a device"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::lstat((dir_ / "fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the FIFO is untouched";
}

TEST_F(Output, ProblemsFoundBeforeWriting) {
  EXPECT_FALSE(output_problem((dir_ / "r.json").string()));
  EXPECT_FALSE(output_problem("-"));
  // A missing directory under a writable one is created on write.
  EXPECT_FALSE(output_problem((dir_ / "new" / "r.json").string()));
  write_output((dir_ / "new" / "r.json").string(), "x");
  EXPECT_EQ(slurp(dir_ / "new" / "r.json"), "x");
  std::ofstream(dir_ / "file") << "x";
  const auto under_file = output_problem((dir_ / "file" / "r.json").string());
  ASSERT_TRUE(under_file);
  EXPECT_NE(under_file->find("is not a directory"), std::string::npos) << *under_file;
  // A report dir is created on demand: a missing one is fine under a writable ancestor.
  EXPECT_FALSE(output_dir_problem((dir_ / "a" / "b").string()));
  EXPECT_TRUE(output_dir_problem((dir_ / "file").string()));
  EXPECT_TRUE(output_dir_problem((dir_ / "file" / "sub").string()));

  SinkOptions o;
  o.report_file = dir_.string();
  o.report_dir = (dir_ / "reports").string();
  o.textfile = (dir_ / "file" / "m.prom").string();
  const auto problems = check_outputs(o);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].rfind("--report ", 0), 0u) << problems[0];
  EXPECT_EQ(problems[1].rfind("--textfile ", 0), 0u) << problems[1];
  EXPECT_TRUE(has_outputs(o));
  EXPECT_FALSE(has_outputs(SinkOptions{}));
}

TEST_F(Output, PruneKeepsTheNewestAndOnlyTouchesOurNames) {
  const std::vector<std::string> ours = {
      "ttl-auditor-20261101T000000Z-aaaa0001.json", "ttl-auditor-20261102T000000Z-aaaa0002.json",
      "ttl-auditor-20261103T000000Z-aaaa0003.json", "ttl-auditor-20261104T000000Z-aaaa0004.json"};
  const std::vector<std::string> foreign = {"latest.json", "notes.json",
                                            "ttl-auditor-20261101T000000Z-aaaa0001.json.bak",
                                            "ttl-auditor-backup.json"};
  for (const auto& n : ours) std::ofstream(dir_ / n) << "{}";
  for (const auto& n : foreign) std::ofstream(dir_ / n) << "{}";
  EXPECT_EQ(report_dir_file_time(ours[0]), 1793491200);
  EXPECT_FALSE(report_dir_file_time("notes.json"));

  // keep 2, protecting the newest: the two oldest go.
  auto removed = prune_report_dir(dir_.string(), 2, 0, 1793491200 + 10 * 86400, ours[3]);
  EXPECT_EQ(removed.size(), 2u);
  EXPECT_FALSE(fs::exists(dir_ / ours[0]));
  EXPECT_FALSE(fs::exists(dir_ / ours[1]));
  EXPECT_TRUE(fs::exists(dir_ / ours[2]));
  for (const auto& n : foreign) EXPECT_TRUE(fs::exists(dir_ / n)) << n;

  // keep-days 1 at 2026-11-04T12:00Z: the 11-03 report is older than a day and goes; the
  // protected one stays even when it is old.
  removed = prune_report_dir(dir_.string(), 0, 1, 1793491200 + 3.5 * 86400, ours[3]);
  EXPECT_EQ(removed.size(), 1u);
  EXPECT_FALSE(fs::exists(dir_ / ours[2]));
  EXPECT_TRUE(fs::exists(dir_ / ours[3]));
  removed = prune_report_dir(dir_.string(), 0, 1, 1793491200 + 30 * 86400, ours[3]);
  EXPECT_TRUE(removed.empty());
  for (const auto& n : foreign) EXPECT_TRUE(fs::exists(dir_ / n)) << n;
}

}  // namespace
}  // namespace ttla
