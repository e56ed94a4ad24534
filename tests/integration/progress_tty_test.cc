// The progress line as a user sees it: `ttl-auditor run` under a real pseudo-terminal (forkpty)
// against dynalite, on a table of a few thousand items read at a rate limit so the scan lasts a
// couple of seconds. The line must show the share done, items/s, RCU/s and an ETA, be redrawn in
// place at most 4 times a second and be wiped at the end; with --no-progress, or with stderr not a
// terminal (the rest of the terminal unchanged), nothing of it may appear.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/require.h"
#include "support/spawn.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ttla::testing::read_file;
using ttla::testing::spawn_and_wait;

constexpr int64_t kAsOf = 1'790'000'000;
constexpr const char* kClear = "\r\033[K";

struct TtyRun {
  int exit_code = -1;
  std::string tty;      // everything written to the terminal
  double seconds = 0;   // from start to exit
};

// Runs argv with stdin/stdout/stderr on a new pseudo-terminal (200 columns, TERM=xterm), or with
// stderr alone sent to `stderr_file` when given.
TtyRun run_on_tty(const std::vector<std::string>& argv, const std::string& stderr_file = "") {
  TtyRun r;
  int master = -1;
  winsize ws{};
  ws.ws_col = 200;
  ws.ws_row = 50;
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = forkpty(&master, nullptr, nullptr, &ws);
  if (pid < 0) return r;
  if (pid == 0) {
    setenv("TERM", "xterm", 1);
    if (!stderr_file.empty()) {
      const int fd = open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0 || dup2(fd, 2) < 0) _exit(126);
      close(fd);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  char buf[4096];
  while (true) {
    pollfd p{master, POLLIN, 0};
    if (poll(&p, 1, 120000) <= 0) break;
    const ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO once the child has exited and the terminal is gone
    r.tty.append(buf, static_cast<size_t>(n));
  }
  close(master);
  int st = 0;
  waitpid(pid, &st, 0);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (WIFEXITED(st)) r.exit_code = WEXITSTATUS(st);
  return r;
}

// The lines drawn (the text after each "\r\033[K", up to the next control sequence).
std::vector<std::string> drawn_lines(const std::string& tty) {
  std::vector<std::string> out;
  for (size_t at = tty.find(kClear); at != std::string::npos; at = tty.find(kClear, at + 1)) {
    const size_t from = at + 4;
    const size_t to = tty.find_first_of("\r\033\n", from);
    std::string line = tty.substr(from, to == std::string::npos ? std::string::npos : to - from);
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

class ProgressTtyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* e = std::getenv("TTLA_DYNALITE_ENDPOINT");
    if (!e) TTLA_SKIP_OR_FAIL("TTLA_DYNALITE_ENDPOINT not set: scripts/servers/dynalite.sh");
    char tmpl[] = "/tmp/ttla-progress-it-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto gen = ttla::testing::load_dynamo_table(e, "ttla_progress_it", 4000, 31, kAsOf, dir_);
    ASSERT_EQ(gen.exit_code, 0) << gen.describe();
    // dynalite charges about 1 read unit per 60 of these items: 4,000 items at 25 units/s take
    // about 2.7 s. ItemCount stays 0 in dynalite, so the share counts the 8 segments.
    std::ofstream(dir_ / "c.yaml") << "targets:\n  - name: prog\n    kind: dynamodb\n"
                                      "    region: us-east-1\n    table: ttla_progress_it\n"
                                      "    endpoint_url: " << e
                                   << "\n    ttl_attribute: ttl\n    segments: 8\n"
                                      "    max_read_units_per_second: 25\n";
  }
  void TearDown() override {
    if (!dir_.empty() && !std::getenv("TTLA_KEEP_TEST_DIR")) fs::remove_all(dir_);
  }

  std::vector<std::string> argv(const std::string& tag, bool no_progress = false) {
    std::vector<std::string> a = {TTLA_BINARY, "run", "--config", (dir_ / "c.yaml").string(),
                                  "--as-of", std::to_string(kAsOf), "--report",
                                  (dir_ / (tag + ".json")).string(), "--fail-on", "never",
                                  "--log-level", "error"};
    if (no_progress) a.push_back("--no-progress");
    return a;
  }

  fs::path dir_;
};

TEST_F(ProgressTtyTest, TerminalShowsShareRatesAndEtaAtMostFourTimesASecond) {
  const TtyRun r = run_on_tty(argv("tty"));
  ASSERT_EQ(r.exit_code, 0) << r.tty;
  const json report = json::parse(read_file(dir_ / "tty.json"));
  const json& scan = report["targets"][0]["scan"];
  ASSERT_EQ(scan["items_scanned"].get<uint64_t>(), 4000u);
  // The rate limit must have made the scan last long enough for a few redraws.
  ASSERT_GT(scan["duration_seconds"].get<double>(), 1.5) << scan.dump();

  // On a terminal the run ends with its summary table; the progress output is what comes before.
  const size_t summary = r.tty.find("TARGET  STATUS");
  ASSERT_NE(summary, std::string::npos) << r.tty;
  std::string progress = r.tty.substr(0, summary);
  while (!progress.empty() && (progress.back() == '\n' || progress.back() == '\r')) progress.pop_back();
  const std::vector<std::string> lines = drawn_lines(progress);
  ASSERT_GE(lines.size(), 3u) << r.tty;
  bool share = false, items_rate = false, units_rate = false, eta = false;
  for (const std::string& l : lines) {
    EXPECT_EQ(l.rfind("prog: ", 0), 0u) << l;
    share |= l.find("% (") != std::string::npos && l.find("/8 segments)") != std::string::npos;
    items_rate |= l.find(" items/s") != std::string::npos;
    units_rate |= l.find(" RCU/s") != std::string::npos;
    // A time, not the "--" shown before the first segment finishes.
    eta |= l.find("ETA ") != std::string::npos && l.find("ETA --") == std::string::npos;
  }
  EXPECT_TRUE(share) << r.tty;
  EXPECT_TRUE(items_rate) << r.tty;
  EXPECT_TRUE(units_rate) << r.tty;
  EXPECT_TRUE(eta) << r.tty;
  // Redrawn in place (never a newline inside the progress output) and rate-limited: one draw at
  // once, then at most 4 per second of the run.
  EXPECT_LE(static_cast<double>(lines.size()), r.seconds * 4 + 2)
      << lines.size() << " draws in " << r.seconds << " s";
  // The line is wiped at the end: the last thing on the terminal is the clearing sequence.
  ASSERT_GE(progress.size(), 4u);
  EXPECT_EQ(progress.substr(progress.size() - 4), kClear);
  EXPECT_EQ(progress.find('\n'), std::string::npos) << r.tty;
}

TEST_F(ProgressTtyTest, NoProgressFlagDrawsNothing) {
  const TtyRun r = run_on_tty(argv("quiet", true));
  ASSERT_EQ(r.exit_code, 0) << r.tty;
  EXPECT_TRUE(fs::exists(dir_ / "quiet.json"));
  // Only the closing summary reaches the terminal: no progress line before it, no redraws.
  const size_t summary = r.tty.find("TARGET  STATUS");
  ASSERT_NE(summary, std::string::npos) << r.tty;
  EXPECT_EQ(r.tty.substr(0, summary).find_first_not_of("\r\n"), std::string::npos) << r.tty;
  EXPECT_EQ(r.tty.find("\033[K"), std::string::npos) << r.tty;
  EXPECT_EQ(r.tty.find("items"), std::string::npos) << r.tty;
}

TEST_F(ProgressTtyTest, StderrNotATerminalDrawsNothing) {
  const fs::path err = dir_ / "piped.err";
  const TtyRun r = run_on_tty(argv("piped"), err.string());
  ASSERT_EQ(r.exit_code, 0) << read_file(err);
  EXPECT_TRUE(fs::exists(dir_ / "piped.json"));
  const std::string text = read_file(err) + r.tty;
  EXPECT_EQ(text.find('\r'), std::string::npos) << text;
  EXPECT_EQ(text.find("\033["), std::string::npos) << text;
  EXPECT_EQ(text.find("items"), std::string::npos) << text;
}

}  // namespace
