#pragma once
// Files, shell commands and scratch folders for tests: one copy for every test binary.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

namespace ttla::testing {

// The whole file ("" when it cannot be read).
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

// Runs a shell command line, returns its exit code (-1 when it did not exit normally).
inline int shell(const std::string& command) {
  const int st = std::system(command.c_str());
  return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// Whether `text` has a line exactly equal to `line`.
inline bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    if (l == line) return true;
  }
  return false;
}

// A new empty folder under the system temp folder, unique to this process and call:
// <tmp>/<prefix>-<pid>-<steady clock ticks>.
inline std::filesystem::path make_temp_dir(const std::string& prefix) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      (prefix + "-" + std::to_string(getpid()) + "-" +
       std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::filesystem::create_directories(dir);
  return dir;
}

// Removes a test's scratch folder unless TTLA_KEEP_TEST_DIR is set (to look at it afterwards).
inline void remove_temp_dir(const std::filesystem::path& dir) {
  if (!dir.empty() && std::getenv("TTLA_KEEP_TEST_DIR") == nullptr) {
    std::filesystem::remove_all(dir);
  }
}

// A scratch folder for one test, removed when it goes out of scope (kept with
// TTLA_KEEP_TEST_DIR, as remove_temp_dir does).
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "ttla-test") : path_(make_temp_dir(prefix)) {}
  ~TempDir() {
    std::error_code ec;
    if (std::getenv("TTLA_KEEP_TEST_DIR") == nullptr) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  // Writes `text` to <dir>/<name> and returns that path.
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    write_file(path_ / name, text);
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace ttla::testing
