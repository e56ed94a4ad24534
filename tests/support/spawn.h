#pragma once
// Child processes for integration tests (posix_spawn): stdin from /dev/null, stdout and stderr to
// files. Child runs one in the background; spawn_and_wait runs one to completion and reads its
// output back.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "support/files.h"

extern char** environ;

namespace ttla::testing {

// Changes to this process's environment for a child: name -> value, "" unsets the variable.
using EnvChanges = std::map<std::string, std::string>;

// A child process; argv[0] without a '/' is looked up on PATH. The destructor kills a child that
// is still running (only the one started here) and reaps it.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::filesystem::path& out,
        const std::filesystem::path& err, const EnvChanges& env = {}) {
    std::vector<std::string> vars;
    std::vector<char*> envp;
    if (!env.empty()) {
      std::map<std::string, std::string> merged;
      for (char** e = environ; *e != nullptr; ++e) {
        const std::string entry(*e);
        const size_t eq = entry.find('=');
        merged[entry.substr(0, eq)] = eq == std::string::npos ? "" : entry.substr(eq + 1);
      }
      for (const auto& [k, v] : env) {
        if (v.empty()) {
          merged.erase(k);
        } else {
          merged[k] = v;
        }
      }
      for (const auto& [k, v] : merged) vars.push_back(k + "=" + v);
      for (auto& v : vars) envp.push_back(v.data());
      envp.push_back(nullptr);
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(),
                     env.empty() ? environ : envp.data()) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&fa);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  void signal(int sig) const {
    if (pid_ > 0 && !reaped_) kill(pid_, sig);
  }
  // Waits for the end: exit code, -1 when it did not start or was killed by a signal (see
  // term_signal()).
  int wait() {
    if (pid_ <= 0) return -1;
    if (!reaped_) {
      pid_t r = 0;
      do {
        r = waitpid(pid_, &status_, 0);
      } while (r < 0 && errno == EINTR);
      reaped_ = r == pid_;
    }
    return reaped_ && WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }
  // The same, but -2 when still running after `timeout`.
  int wait(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return -1;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!reaped_) {
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        reaped_ = true;
      } else if (std::chrono::steady_clock::now() > deadline) {
        return -2;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }
  // The signal that ended the child, 0 when it exited (valid after wait()).
  int term_signal() const { return reaped_ && WIFSIGNALED(status_) ? WTERMSIG(status_) : 0; }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

struct SpawnResult {
  int exit_code = -1;  // -1 when it did not start or was killed by a signal
  int signal = 0;
  std::string out, err;
  std::string describe() const {
    return "exit=" + std::to_string(exit_code) + " signal=" + std::to_string(signal) +
           "\nstdout:\n" + out.substr(0, 1500) + "\nstderr:\n" + err.substr(0, 4000);
  }
};

// Runs `argv` to completion (environment changed by `env`), output in the files `out` and `err`.
inline SpawnResult spawn_and_wait(const std::vector<std::string>& argv,
                                  const std::filesystem::path& out,
                                  const std::filesystem::path& err, const EnvChanges& env = {}) {
  SpawnResult r;
  {
    Child child(argv, out, err, env);
    if (!child.started()) {
      r.err = "posix_spawn " + argv[0] + " failed";
      return r;
    }
    r.exit_code = child.wait();
    r.signal = child.term_signal();
  }
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

// spawn_and_wait with the output in dir/<tag>.out and dir/<tag>.err.
inline SpawnResult run_in(const std::vector<std::string>& argv, const std::filesystem::path& dir,
                          const std::string& tag, const EnvChanges& env = {}) {
  return spawn_and_wait(argv, dir / (tag + ".out"), dir / (tag + ".err"), env);
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
