#include "checks/history.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>

#include <nlohmann/json.hpp>
#include "core/log.h"

#include "core/error.h"

namespace ttla {
namespace {

namespace fs = std::filesystem;

// Target names are [A-Za-z0-9_.-]+ by config validation; refuse anything that could leave the
// state directory anyway, since the name becomes a file name.
void check_name(const std::string& target) {
  bool ok = !target.empty() && target != "." && target != "..";
  for (char c : target) {
    bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '.' || c == '-';
    ok = ok && allowed;
  }
  if (!ok) throw Error(ErrorKind::kConfig, "history: invalid target name \"" + target + "\"");
}

std::optional<HistoryPoint> parse_line(std::string_view line) {
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto fa = j.find("finished_at");
  auto ex = j.find("expired");
  if (fa == j.end() || !fa->is_number() || ex == j.end() || !ex->is_number()) return std::nullopt;
  HistoryPoint p;
  p.finished_at = fa->get<double>();
  p.expired = ex->get<double>();
  auto oo = j.find("oldest_overdue_seconds");
  if (oo != j.end() && oo->is_number()) p.oldest_overdue_seconds = oo->get<double>();
  auto st = j.find("status");
  if (st != j.end() && st->is_string()) p.status = st->get<std::string>();
  return p;
}

std::string to_line(const HistoryPoint& p) {
  nlohmann::json j = {{"finished_at", p.finished_at},
                      {"expired", p.expired},
                      {"oldest_overdue_seconds", p.oldest_overdue_seconds},
                      {"status", p.status}};
  return j.dump();
}

[[noreturn]] void io_error(const std::string& what, const std::string& path) {
  throw Error(ErrorKind::kIo, "history: " + what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

HistoryPoint history_point(const TargetReport& report, double finished_at) {
  HistoryPoint p;
  p.finished_at = finished_at;
  p.expired = report.expired_count_reported();
  p.oldest_overdue_seconds = report.stats.oldest_overdue_seconds();
  p.status = std::string(to_string(report.status));
  return p;
}

HistoryStore::HistoryStore(std::string state_dir) : dir_(std::move(state_dir)) {}

std::string HistoryStore::path_for(const std::string& target) const {
  // A table discovered by `tables:` is target `parent/table`: one file `parent%2Ftable.jsonl`
  // ('%' never occurs in a configured name, so this cannot collide).
  const size_t slash = target.find('/');
  if (slash == std::string::npos) {
    check_name(target);
    return (fs::path(dir_) / (target + ".jsonl")).string();
  }
  check_name(target.substr(0, slash));
  check_name(target.substr(slash + 1));
  return (fs::path(dir_) / (target.substr(0, slash) + "%2F" + target.substr(slash + 1) + ".jsonl"))
      .string();
}

std::vector<HistoryPoint> HistoryStore::load(const std::string& target) const {
  std::vector<HistoryPoint> points;
  if (!enabled()) return points;
  std::string path = path_for(target);
  std::ifstream in(path);
  if (!in) return points;  // first run: no history yet
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    if (auto p = parse_line(line)) {
      points.push_back(std::move(*p));
    } else {
      // A torn write from an older version or a hand edit must not stop the audit.
      log::warn("history: skipping corrupt line", Fields().add("file", path).add("line", line_no));
    }
  }
  return points;
}

void HistoryStore::append(const std::string& target, const HistoryPoint& point, int keep) {
  if (!enabled()) return;
  std::string path = path_for(target);
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    throw Error(ErrorKind::kIo, "history: cannot create state dir " + dir_ + ": " + ec.message());
  }
  std::vector<HistoryPoint> points = load(target);
  points.push_back(point);
  size_t limit = keep > 0 ? static_cast<size_t>(keep) : 1;
  if (points.size() > limit) points.erase(points.begin(), points.end() - static_cast<long>(limit));

  std::string body;
  for (const auto& p : points) body += to_line(p) + "\n";

  // Temp file in the same directory so rename() is atomic: a crash leaves the old or the new
  // history, never a torn one.
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) io_error("cannot create", tmp);
  size_t off = 0;
  while (off < body.size()) {
    ssize_t n = ::write(fd, body.data() + off, body.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      errno = saved;
      io_error("cannot write", tmp);
    }
    off += static_cast<size_t>(n);
  }
  bool synced = ::fsync(fd) == 0;
  int saved_sync = errno;
  bool closed = ::close(fd) == 0;
  if (!synced || !closed) {
    int saved = synced ? errno : saved_sync;
    ::unlink(tmp.c_str());
    errno = saved;
    io_error("cannot flush", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    io_error("cannot rename into", path);
  }
}

}  // namespace ttla
