#include "sinks/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "core/log.h"

#include "core/error.h"
#include "sinks/output.h"

namespace ttla {
namespace {

namespace fs = std::filesystem;

struct Held {
  int fd = -1;
  int count = 0;
};

// flock() conflicts between two open file descriptions even inside one process, so nested
// locks on the same file would deadlock; this table makes them share one descriptor instead.
std::mutex& table_mutex() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, Held>& table() {
  static std::map<std::string, Held> held;
  return held;
}

}  // namespace

RunLock::RunLock(std::string path, double wait_seconds, Target target) : path_(std::move(path)) {
  std::error_code ec;
  fs::path p(path_);
  if (target == Target::kDirectory) {
    fs::create_directories(p, ec);
  } else if (p.has_parent_path()) {
    fs::create_directories(p.parent_path(), ec);
  }
  key_ = fs::weakly_canonical(p, ec).string();
  if (ec || key_.empty()) key_ = fs::absolute(p).string();

  std::unique_lock<std::mutex> lock(table_mutex());
  auto it = table().find(key_);
  if (it != table().end()) {
    ++it->second.count;
    return;
  }
  // flock(2) works on a directory's descriptor too: locking the output directory itself
  // leaves no lock file among the outputs.
  int fd = target == Target::kDirectory
               ? ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
               : ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw Error(ErrorKind::kIo, "cannot open lock " + path_ + ": " + std::strerror(errno));
  }
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration<double>(wait_seconds < 0 ? 0 : wait_seconds);
  bool logged = false;
  while (true) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) break;
    int err = errno;
    if (err == EINTR) continue;
    if (err != EWOULDBLOCK) {
      ::close(fd);
      throw Error(ErrorKind::kIo, "cannot lock " + path_ + ": " + std::strerror(err));
    }
    if (wait_seconds >= 0 && std::chrono::steady_clock::now() >= deadline) {
      ::close(fd);
      throw Error(ErrorKind::kIo, "another ttl-auditor run holds " + path_);
    }
    if (!logged) {
      log::info("lock: waiting for another run", Fields().add("path", path_));
      logged = true;
    }
    // Poll instead of a blocking flock so the wait honours its deadline; the table mutex is
    // released meanwhile so other paths can be locked.
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    lock.lock();
    it = table().find(key_);
    if (it != table().end()) {  // another thread of ours got it meanwhile: share it
      ::close(fd);
      ++it->second.count;
      return;
    }
  }
  table()[key_] = Held{fd, 1};
}

RunLock::~RunLock() {
  std::lock_guard<std::mutex> lock(table_mutex());
  auto it = table().find(key_);
  if (it == table().end()) return;
  if (--it->second.count > 0) return;
  ::flock(it->second.fd, LOCK_UN);
  ::close(it->second.fd);
  table().erase(it);
}

std::string RunLock::default_path(const SinkOptions& options) {
  if (!options.report_dir.empty()) return options.report_dir;
  // The directory a file output lands in (symlinks followed); streams need no lock.
  for (const std::string* out : {&options.report_file, &options.textfile}) {
    if (out->empty()) continue;
    OutputDestination d;
    try {
      d = resolve_output(*out);
    } catch (const std::exception&) {
      continue;  // refused outputs fail in their own sink, with their own message
    }
    if (d.is_stream()) continue;
    const fs::path dir = fs::path(d.path).parent_path();
    return dir.empty() ? std::string(".") : dir.string();
  }
  return "";
}

}  // namespace ttla
