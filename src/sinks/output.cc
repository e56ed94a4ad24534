#include "sinks/output.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "sinks/atomic_file.h"

namespace ttla {
namespace {

namespace fs = std::filesystem;

// Linux gives up on a path after 40 symlinks (ELOOP); so do we.
constexpr int kMaxSymlinkHops = 40;

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// 1 or 2 when `path` (followed) is the very file our stdout or stderr is open on, else -1.
int stream_named_by(const std::string& path) {
  struct stat target {};
  if (::stat(path.c_str(), &target) != 0) return -1;
  for (int fd : {STDOUT_FILENO, STDERR_FILENO}) {
    struct stat open {};
    if (::fstat(fd, &open) == 0 && same_file(target, open)) return fd;
  }
  return -1;
}

// Follows symlinks one hop at a time, so a dangling link still yields the file it names.
fs::path follow_links(const std::string& path) {
  fs::path p(path);
  for (int hop = 0; hop < kMaxSymlinkHops; ++hop) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    char buf[PATH_MAX];
    const ssize_t n = ::readlink(p.c_str(), buf, sizeof buf - 1);
    if (n < 0) {
      throw Error(ErrorKind::kIo, "cannot read symlink " + p.string() + ": " + std::strerror(errno));
    }
    const fs::path next(std::string(buf, static_cast<size_t>(n)));
    p = next.is_absolute() ? next : (p.parent_path() / next);
    p = p.lexically_normal();
  }
  throw Error(ErrorKind::kConfig, path + ": too many levels of symbolic links");
}

const char* refused_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  return nullptr;
}

// Nearest existing ancestor of `dir` (itself included); "." for an empty relative path.
fs::path existing_ancestor(fs::path dir) {
  if (dir.empty()) dir = ".";
  std::error_code ec;
  while (!fs::exists(dir, ec) && dir.has_parent_path() && dir.parent_path() != dir) {
    dir = dir.parent_path();
  }
  return dir;
}

std::optional<std::string> writable_dir_problem(const fs::path& dir, const std::string& shown) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return shown + ": directory " + dir.string() + ": " + std::strerror(errno);
  }
  if (!S_ISDIR(st.st_mode)) return shown + ": " + dir.string() + " is not a directory";
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return shown + ": cannot write into " + dir.string() + ": " + std::strerror(errno);
  }
  return std::nullopt;
}

void write_stream(int fd, const std::string& content) {
  FILE* f = fd == STDERR_FILENO ? stderr : stdout;
  const size_t n = std::fwrite(content.data(), 1, content.size(), f);
  if (n != content.size() || std::fflush(f) != 0) {
    throw Error(ErrorKind::kIo, std::string("cannot write to ") +
                                    (fd == STDERR_FILENO ? "stderr" : "stdout") + ": " +
                                    std::strerror(errno));
  }
}

}  // namespace

std::string OutputDestination::describe() const {
  if (stream_fd == STDOUT_FILENO) return "stdout";
  if (stream_fd == STDERR_FILENO) return "stderr";
  return path;
}

OutputDestination resolve_output(const std::string& path) {
  OutputDestination d;
  if (path == "-") {
    d.stream_fd = STDOUT_FILENO;
    return d;
  }
  if (path.empty()) throw Error(ErrorKind::kConfig, "empty output path");
  // Before anything else: /dev/stdout and friends are the stream, whatever they link to (a pipe
  // shows up as the dangling "pipe:[N]", a terminal as /dev/pts/N).
  d.stream_fd = stream_named_by(path);
  if (d.is_stream()) return d;

  const fs::path real = follow_links(path);
  struct stat st {};
  if (::stat(real.c_str(), &st) == 0) {
    if (const char* what = refused_kind(st.st_mode)) {
      std::string msg = path;
      if (real.string() != path) msg += " (-> " + real.string() + ")";
      throw Error(ErrorKind::kConfig, msg + " is " + what +
                                          ", not a file: refusing to replace it (use - to write to stdout)");
    }
  }
  d.path = real.string();
  return d;
}

std::optional<std::string> output_problem(const std::string& path) {
  OutputDestination d;
  try {
    d = resolve_output(path);
  } catch (const Error& e) {
    return std::string(e.what());
  }
  if (d.is_stream()) {
    struct stat st {};
    if (::fstat(d.stream_fd, &st) != 0) return path + ": " + d.describe() + " is closed";
    return std::nullopt;
  }
  // A missing directory is created when the output is written (as --report-dir is), so it is
  // enough that the nearest existing ancestor is a writable directory.
  const fs::path file(d.path);
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  return writable_dir_problem(existing_ancestor(dir), path);
}

std::optional<std::string> output_dir_problem(const std::string& dir) {
  if (dir.empty()) return "empty output directory";
  fs::path real;
  try {
    real = follow_links(dir);
  } catch (const Error& e) {
    return std::string(e.what());
  }
  struct stat st {};
  if (::stat(real.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    return dir + " is not a directory";
  }
  return writable_dir_problem(existing_ancestor(real), dir);
}

OutputDestination write_output(const std::string& path, const std::string& content) {
  const OutputDestination d = resolve_output(path);
  if (d.is_stream()) {
    write_stream(d.stream_fd, content);
    return d;
  }
  const fs::path parent = fs::path(d.path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) throw Error(ErrorKind::kIo, "cannot create directory " + parent.string() + ": " + ec.message());
  }
  write_file_atomic(d.path, content);
  return d;
}

}  // namespace ttla
