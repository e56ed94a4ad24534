#pragma once
// Runs a program to completion with posix_spawn: stdin from /dev/null, stdout and stderr to files
// (read back into the result). Used by integration tests that drive the CLI and its helpers.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace ttla::testing {

struct SpawnResult {
  int exit_code = -1;  // -1 when it did not start or was killed by a signal
  int signal = 0;
  std::string out, err;
  std::string describe() const {
    return "exit=" + std::to_string(exit_code) + " signal=" + std::to_string(signal) +
           "\nstderr:\n" + err.substr(0, 4000);
  }
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline SpawnResult spawn_and_wait(const std::vector<std::string>& argv,
                                  const std::filesystem::path& out,
                                  const std::filesystem::path& err) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  SpawnResult r;
  if (rc != 0) {
    r.err = "posix_spawn " + argv[0] + " failed";
    return r;
  }
  int st = 0;
  waitpid(pid, &st, 0);
  if (WIFEXITED(st)) r.exit_code = WEXITSTATUS(st);
  if (WIFSIGNALED(st)) r.signal = WTERMSIG(st);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// Sets the dummy credentials dynalite wants (a signature must be present; the auditor started
// later inherits them) and loads a seeded table with tests/tools/dynamo_gen.py (--reuse: a table
// already loaded the same way is kept). The generator's truth and logs go to `dir`.
inline SpawnResult load_dynamo_table(const std::string& endpoint, const std::string& table,
                                     int items, int seed, int64_t as_of,
                                     const std::filesystem::path& dir) {
  setenv("AWS_ACCESS_KEY_ID", "AKIDTTLAINTEGRATION", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "integration-secret", 1);
  setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  return spawn_and_wait({"/usr/bin/python3",  // Debian's, with boto3
                         std::string(TTLA_SOURCE_DIR) + "/tests/tools/dynamo_gen.py",
                         "--endpoint", endpoint, "--table", table, "--items",
                         std::to_string(items), "--as-of", std::to_string(as_of), "--seed",
                         std::to_string(seed), "--truth", (dir / (table + ".truth.json")).string(),
                         "--reuse", "--quiet"},
                        dir / (table + ".gen.out"), dir / (table + ".gen.err"));
}

}  // namespace ttla::testing
