// The `ttl-auditor serve` binary against dynalite (scripts/servers/dynalite.sh): SIGTERM during a
// rate-limited scan cancels it within seconds, exits 0, and until then /metrics keeps serving the
// last complete audit; /report.json redacts item keys unless --serve-report-keys.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/files.h"
#include "support/require.h"
#include "support/serve_runner.h"

extern char** environ;

namespace ttla {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using testing::http_get;
using testing::wait_for;

// `ttl-auditor serve ...` as a child process, stderr to a file; killed in the destructor if it
// still runs (only the process this test started).
class ServeProcess {
 public:
  ServeProcess(const std::vector<std::string>& args, const fs::path& err) : err_(err) {
    std::vector<std::string> argv = {TTLA_BINARY, "serve"};
    argv.insert(argv.end(), args.begin(), args.end());
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> cargs;
    for (auto& a : argv) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    if (posix_spawn(&pid_, cargs[0], &fa, nullptr, cargs.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  // The port from the "serve: listening ... port=N" log line; 0 if it never came.
  int port() {
    static const std::regex re(R"(serve: listening.*port=(\d+))");
    int port = 0;
    wait_for([&] {
      std::smatch m;
      std::string log = ttla::testing::read_file(err_);
      if (std::regex_search(log, m, re)) port = std::stoi(m[1]);
      return port != 0;
    });
    return port;
  }
  // Sends `sig` and waits up to `limit` seconds: {exit code or -1, seconds taken}.
  std::pair<int, double> stop(int sig, double limit) {
    auto t0 = Clock::now();
    ::kill(pid_, sig);
    int status = 0;
    while (std::chrono::duration<double>(Clock::now() - t0).count() < limit) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return {WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                std::chrono::duration<double>(Clock::now() - t0).count()};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return {-1, limit};
  }
  bool ok() const { return pid_ > 0; }

 private:
  fs::path err_;
  pid_t pid_ = -1;
};

class ServeDynamo : public ::testing::Test {
 protected:
  void SetUp() override {
    TTLA_REQUIRE_ENV(endpoint_, "TTLA_DYNALITE_ENDPOINT", "scripts/servers/dynalite.sh start DIR");
    setenv("AWS_ACCESS_KEY_ID", "AKIDTTLAINTEGRATION", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "integration-secret", 1);
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_PROFILE");
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    dir_ = fs::temp_directory_path() /
           ("ttla-serve-dyn-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    table_ = "ttla_serve_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  void TearDown() override {
    if (!dir_.empty() && !std::getenv("TTLA_KEEP_TEST_DIR")) fs::remove_all(dir_);
  }

  // (Re)creates the table with `items` generated items (tests/tools/dynamo_gen.py), TTLs around
  // the current time.
  void load(int items, int seed) {
    std::string cmd = std::string("/usr/bin/python3 ") + TTLA_SOURCE_DIR +
                      "/tests/tools/dynamo_gen.py --endpoint " + endpoint_ + " --table " + table_ +
                      " --items " + std::to_string(items) + " --as-of " +
                      std::to_string(std::time(nullptr)) + " --seed " + std::to_string(seed) +
                      " --no-boundaries --recreate --quiet > " + (dir_ / "gen.log").string() +
                      " 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << ttla::testing::read_file(dir_ / "gen.log");
  }
  fs::path config(double rcu_per_second) {
    fs::path p = dir_ / "config.yaml";
    std::ofstream(p) << "targets:\n  - name: slow\n    kind: dynamodb\n    table: " << table_
                     << "\n    region: us-east-1\n    endpoint_url: " << endpoint_
                     << "\n    ttl_attribute: ttl\n    segments: 1\n";
    if (rcu_per_second > 0) {
      std::ofstream(p, std::ios::app) << "    max_read_units_per_second: " << rcu_per_second << "\n";
    }
    return p;
  }

  std::string endpoint_, table_;
  fs::path dir_;
};

std::string expired_line(const std::string& metrics) {
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("ttl_auditor_expired_items{", 0) == 0) return line;
  }
  return "";
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

TEST_F(ServeDynamo, SigtermMidScanStopsWithinSecondsServingTheLastCompleteAudit) {
  load(40, 1);  // the first audit: a few read units, done in about a second
  // Long enough for the next load to finish before the second audit starts, on a loaded CI
  // machine too (6000 items took 8.8-9.7 s there at load average 13-18).
  const double interval = 20;
  ServeProcess serve({"--config", config(1).string(), "--listen", "127.0.0.1:0", "--interval",
                      "20s", "--log-level", "info"},
                     dir_ / "serve.err");
  ASSERT_TRUE(serve.ok());
  const int port = serve.port();
  ASSERT_NE(port, 0) << ttla::testing::read_file(dir_ / "serve.err");
  ASSERT_TRUE(wait_for([&] { return http_get(port, "/healthz").status == 200; }, 30))
      << ttla::testing::read_file(dir_ / "serve.err");
  auto first_done = Clock::now();
  const std::string first = expired_line(http_get(port, "/metrics").body);
  ASSERT_FALSE(first.empty());

  // Before the next audit starts, the table grows to thousands of items: at 1 read unit/s the
  // next scan takes minutes.
  load(6000, 2);
  ASSERT_LT(std::chrono::duration<double>(Clock::now() - first_done).count(), interval * 0.9 - 1)
      << "loading took too long: the second audit may have started on the small table";
  ASSERT_TRUE(wait_for([&] { return count(ttla::testing::read_file(dir_ / "serve.err"), "run started") >= 2; },
                       interval * 1.2))
      << ttla::testing::read_file(dir_ / "serve.err");
  std::this_thread::sleep_for(std::chrono::seconds(3));  // well into the scan

  // Mid-scan: the last complete audit is what is served.
  auto health = nlohmann::json::parse(http_get(port, "/healthz").body);
  EXPECT_EQ(health["audits"], 1) << "the second audit must still be running";
  EXPECT_EQ(expired_line(http_get(port, "/metrics").body), first);

  auto [rc, seconds] = serve.stop(SIGTERM, 60);
  EXPECT_EQ(rc, 0) << ttla::testing::read_file(dir_ / "serve.err");
  EXPECT_LT(seconds, 3.0) << "SIGTERM must cancel the running scan";
  std::string log = ttla::testing::read_file(dir_ / "serve.err");
  EXPECT_NE(log.find("serve: audit cancelled"), std::string::npos) << log;
  EXPECT_EQ(count(log, "serve: audit finished"), 1) << "the cancelled audit is never published";
  RecordProperty("stop_seconds", std::to_string(seconds));
  std::printf("SIGTERM mid-scan: exit %d after %.3f s\n", rc, seconds);
}

TEST_F(ServeDynamo, SigintStopsToo) {
  load(3000, 3);  // the first audit is already slow: nothing complete to serve yet
  ServeProcess serve({"--config", config(1).string(), "--listen", "127.0.0.1:0", "--interval", "1h"},
                     dir_ / "serve.err");
  const int port = serve.port();
  ASSERT_NE(port, 0) << ttla::testing::read_file(dir_ / "serve.err");
  ASSERT_TRUE(wait_for([&] { return count(ttla::testing::read_file(dir_ / "serve.err"), "run started") >= 1; }));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(http_get(port, "/healthz").status, 503);
  EXPECT_EQ(http_get(port, "/report.json").status, 503);
  auto [rc, seconds] = serve.stop(SIGINT, 60);
  EXPECT_EQ(rc, 0) << ttla::testing::read_file(dir_ / "serve.err");
  EXPECT_LT(seconds, 3.0);
}

TEST_F(ServeDynamo, ReportKeysAreRedactedUnlessAskedFor) {
  load(60, 4);
  for (bool keys : {false, true}) {
    std::vector<std::string> args = {"--config", config(0).string(), "--listen", "127.0.0.1:0",
                                     "--interval", "1h"};
    if (keys) args.push_back("--serve-report-keys");
    ServeProcess serve(args, dir_ / "serve.err");
    const int port = serve.port();
    ASSERT_NE(port, 0) << ttla::testing::read_file(dir_ / "serve.err");
    ASSERT_TRUE(wait_for([&] { return http_get(port, "/report.json").status == 200; }, 30));
    auto report = nlohmann::json::parse(http_get(port, "/report.json").body);
    const auto& expired = report["targets"][0]["expired"];
    ASSERT_GT(expired["oldest_items"].size(), 0u) << report.dump();
    for (const char* list : {"oldest_items", "sample_items"}) {
      for (const auto& item : expired[list]) {
        std::string key = item["key"];
        if (keys) {
          EXPECT_EQ(key.rfind("pk=", 0), 0u) << key;
        } else {
          EXPECT_TRUE(std::regex_match(key, std::regex("hash:[0-9a-f]{16}"))) << key;
        }
      }
    }
    EXPECT_EQ(serve.stop(SIGTERM, 10).first, 0);
  }
}

}  // namespace
}  // namespace ttla
