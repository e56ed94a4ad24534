#include "sources/filesystem_source.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/log.h"

#include "core/error.h"
#include "core/time.h"
#include "sources/fs_orphans.h"

namespace ttla {
namespace {

struct DirCloser {
  void operator()(DIR* d) const {
    if (d != nullptr) ::closedir(d);
  }
};
using DirHandle = std::unique_ptr<DIR, DirCloser>;

double mtime_seconds(const struct stat& st) {
  return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) / 1e9;
}

// A directory waiting to be walked: its open stream and its path relative to the root ("a/b/").
struct Pending {
  DirHandle dir;
  std::string rel;
};

// Directories shared between the workers. A worker walks depth first on its own stack and hands
// a subdirectory to the queue only while the queue is short (fewer than two per worker), so open
// directories stay bounded by workers x (depth + 2) whatever the tree's size.
class WorkQueue {
 public:
  explicit WorkQueue(size_t workers) : low_water_(2 * workers) {}
  bool wants_work() const { return hungry_.load(std::memory_order_relaxed); }
  void push(Pending p) {
    std::lock_guard<std::mutex> lock(mu_);
    items_.push_back(std::move(p));
    hungry_ = items_.size() < low_water_;
    cv_.notify_one();
  }
  // Blocks until there is a directory to walk; false once every worker is idle and the queue is
  // empty (the walk is over) or the walk was stopped.
  bool pop(Pending& out) {
    std::unique_lock<std::mutex> lock(mu_);
    --busy_;
    if (busy_ == 0 && items_.empty()) cv_.notify_all();
    cv_.wait(lock, [&] { return stopped_ || !items_.empty() || busy_ == 0; });
    if (stopped_ || items_.empty()) return false;
    out = std::move(items_.back());
    items_.pop_back();
    hungry_ = items_.size() < low_water_;
    ++busy_;
    return true;
  }
  void stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    items_.clear();
    cv_.notify_all();
  }
  void set_busy(int n) { busy_ = n; }

 private:
  const size_t low_water_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pending> items_;
  std::atomic<bool> hungry_{true};
  int busy_ = 0;
  bool stopped_ = false;
};

// One worker's share of the walk; merged at the end.
struct Walker {
  explicit Walker(const StatsOptions& options) : stats(options) {}
  FilesystemWalkCounters counters;
  TargetStats stats;
  TopGroups folder_bytes;  // expired bytes per top-level folder
  std::string first_error;
};

struct WalkSettings {
  const TargetConfig* target;
  const RunContext* ctx;
  double retention;
  double as_of;
  std::atomic<uint64_t>* files_seen;
  std::atomic<bool>* cancelled;
};

// Walks `start` and everything below it that is not handed to the queue.
void walk(Pending start, Walker& w, WorkQueue& queue, const WalkSettings& cfg) {
  struct Frame {
    DirHandle dir;
    size_t path_length;  // length of `rel` for this directory (with its '/')
  };
  std::vector<Frame> stack;
  std::string rel = std::move(start.rel);
  rel.reserve(4096);
  stack.push_back(Frame{std::move(start.dir), rel.size()});
  uint64_t since_progress = 0;
  const TargetConfig& target = *cfg.target;

  while (!stack.empty()) {
    if (cfg.ctx->cancel != nullptr && cfg.ctx->cancel->load()) {
      cfg.cancelled->store(true);
      queue.stop();
      return;
    }
    Frame& frame = stack.back();
    errno = 0;
    struct dirent* entry = ::readdir(frame.dir.get());
    if (entry == nullptr) {
      if (errno != 0) {
        ++w.counters.unreadable;
        if (w.first_error.empty()) w.first_error = rel + ": " + std::strerror(errno);
      }
      stack.pop_back();
      if (!stack.empty()) rel.resize(stack.back().path_length);
      continue;
    }
    const char* name = entry->d_name;
    if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;

    const int dir_fd = ::dirfd(frame.dir.get());
    unsigned char type = entry->d_type;
    struct stat st {};
    bool have_stat = false;
    if (type == DT_UNKNOWN || type == DT_REG) {
      if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        ++w.counters.unreadable;
        if (w.first_error.empty()) w.first_error = rel + name + ": " + std::strerror(errno);
        continue;
      }
      have_stat = true;
      type = S_ISREG(st.st_mode)   ? DT_REG
             : S_ISDIR(st.st_mode) ? DT_DIR
             : S_ISLNK(st.st_mode) ? DT_LNK
                                   : DT_UNKNOWN;
    }

    if (type == DT_LNK) {
      ++w.counters.symlinks;
      continue;
    }
    if (type == DT_DIR) {
      ++w.counters.directories;
      int fd = ::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      DIR* child = fd < 0 ? nullptr : ::fdopendir(fd);
      if (child == nullptr) {
        if (fd >= 0) ::close(fd);
        ++w.counters.unreadable;
        if (w.first_error.empty()) w.first_error = rel + name + ": " + std::strerror(errno);
        continue;
      }
      if (queue.wants_work()) {
        queue.push(Pending{DirHandle(child), rel + name + "/"});
        continue;
      }
      rel.append(name).push_back('/');
      stack.push_back(Frame{DirHandle(child), rel.size()});
      continue;
    }
    if (type != DT_REG) {
      ++w.counters.other;
      continue;
    }
    if (!have_stat) continue;  // unreachable: regular files are always stat'ed above
    if (!target.pattern.empty() && ::fnmatch(target.pattern.c_str(), name, 0) != 0) {
      ++w.counters.skipped_by_pattern;
      continue;
    }
    ++w.counters.files;
    const auto size = static_cast<uint64_t>(st.st_size);
    w.counters.bytes += size;
    const double deadline = mtime_seconds(st) + cfg.retention;
    if (deadline <= cfg.as_of) {
      const size_t base = rel.size();
      rel.append(name);
      // The group is the first path component: the top-level folder the file lives under.
      const size_t slash = rel.find('/');
      std::string_view folder =
          slash == std::string::npos ? std::string_view(".") : std::string_view(rel).substr(0, slash);
      w.stats.add_expired(rel, deadline, cfg.as_of - deadline, size, folder);
      w.folder_bytes.add(folder, size);
      w.counters.expired_bytes += size;
      rel.resize(base);
    } else {
      w.stats.count(ItemClass::kNotYetExpired);
    }
    if (++since_progress >= 4096) {
      const uint64_t seen = cfg.files_seen->fetch_add(since_progress) + since_progress;
      since_progress = 0;
      // Roughly every 65536 files across the workers.
      if (cfg.ctx->progress && (seen & ~uint64_t{65535}) != ((seen - 4096) & ~uint64_t{65535})) {
        cfg.ctx->progress(target.name, Progress{seen, std::nullopt, 0});
      }
    }
  }
  cfg.files_seen->fetch_add(since_progress);
}

// Orphans are a second finding beside expiry: when the database or the query fails, the expiry
// audit still stands and the target is partial, with the reason.
void add_orphans(TargetReport& report, const TargetConfig& target, const RunContext& ctx) {
  try {
    const OrphanReport r = find_orphans(target, ctx);
    report.extra["orphans"] = orphans_section(r, target, ctx.seed);
    report.scan.requests += r.fetches;
    if (r.unreadable > 0 && report.status == Status::kOk) {
      report.status = Status::kPartial;
      report.error = "orphans: " + std::to_string(r.unreadable) + " entries could not be read";
    }
  } catch (const Error& e) {
    const std::string reason = "orphans: " + std::string(to_string(e.kind())) + ": " + e.what();
    log::warn("orphans unavailable", Fields()
            .add("source", "filesystem")
            .add("target", target.name)
            .add("error", reason));
    report.extra["orphans"] = {{"source", "postgres"}, {"error", reason}};
    report.status = Status::kPartial;
    report.error = report.error ? *report.error + "; " + reason : reason;
  }
}

class FilesystemSource final : public Source {
 public:
  TargetReport audit(const TargetConfig& target, const RunContext& ctx) override {
    if (!target.retention) {
      throw Error(ErrorKind::kConfig, "filesystem target needs retention");
    }
    const auto started = std::chrono::steady_clock::now();
    TargetReport report;
    report.name = target.name;
    report.kind = "filesystem";
    const StatsOptions stats_options{static_cast<size_t>(target.top_k), ctx.seed,
                                     target.redact_keys, static_cast<size_t>(target.top_k)};
    report.stats = TargetStats(stats_options);
    report.scan.mode = "full";

    int root_fd = ::open(target.path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (root_fd < 0) {
      throw Error(ErrorKind::kIo, "cannot open " + target.path + ": " + std::strerror(errno));
    }
    DIR* root = ::fdopendir(root_fd);
    if (root == nullptr) {
      ::close(root_fd);
      throw Error(ErrorKind::kIo, "cannot read " + target.path + ": " + std::strerror(errno));
    }

    // --threads N walks with N workers; 0 (auto): up to 4, no more than the cores.
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    const int workers = ctx.threads > 0 ? ctx.threads : static_cast<int>(std::min(4u, hw));
    std::atomic<uint64_t> files_seen{0};
    std::atomic<bool> cancelled{false};
    const WalkSettings cfg{&target, &ctx, static_cast<double>(*target.retention),
                           static_cast<double>(ctx.as_of), &files_seen, &cancelled};
    WorkQueue queue(static_cast<size_t>(workers));
    std::vector<Walker> walkers;
    walkers.reserve(static_cast<size_t>(workers));
    for (int i = 0; i < workers; ++i) walkers.emplace_back(stats_options);
    queue.set_busy(workers);
    queue.push(Pending{DirHandle(root), std::string()});
    auto run = [&](size_t i) {
      Pending p;
      while (queue.pop(p)) walk(std::move(p), walkers[i], queue, cfg);
    };
    if (workers == 1) {
      run(0);
    } else {
      std::vector<std::thread> threads;
      threads.reserve(static_cast<size_t>(workers));
      for (int i = 0; i < workers; ++i) threads.emplace_back(run, static_cast<size_t>(i));
      for (auto& t : threads) t.join();
    }

    FilesystemWalkCounters counters;
    TopGroups folder_bytes;
    std::string first_error;
    for (Walker& w : walkers) {
      counters.files += w.counters.files;
      counters.bytes += w.counters.bytes;
      counters.directories += w.counters.directories;
      counters.symlinks += w.counters.symlinks;
      counters.other += w.counters.other;
      counters.unreadable += w.counters.unreadable;
      counters.skipped_by_pattern += w.counters.skipped_by_pattern;
      counters.expired_bytes += w.counters.expired_bytes;
      report.stats.merge(w.stats);
      folder_bytes.merge(w.folder_bytes);
      if (!w.first_error.empty() && (first_error.empty() || w.first_error < first_error)) {
        first_error = w.first_error;
      }
    }
    const bool was_cancelled = cancelled.load();

    report.scan.items_scanned = counters.files;
    report.scan.duration_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    nlohmann::json top_folders = nlohmann::json::array();
    for (const auto& [folder, bytes] : folder_bytes.top(static_cast<size_t>(target.top_k))) {
      top_folders.push_back({{"folder", folder}, {"expired_bytes", bytes}});
    }
    report.extra["filesystem"] = {
        {"path", target.path},
        {"files", counters.files},
        {"bytes", counters.bytes},
        {"directories", counters.directories},
        {"symlinks", counters.symlinks},
        {"other", counters.other},
        {"unreadable", counters.unreadable},
        {"skipped_by_pattern", counters.skipped_by_pattern},
        {"top_folders_by_expired_bytes", top_folders},
    };
    if (was_cancelled) {
      report.status = Status::kPartial;
      report.error = "cancelled after " + std::to_string(counters.files) + " files";
    } else if (counters.unreadable > 0) {
      // Something could not be read: the counts are a lower bound, so say so.
      report.status = Status::kPartial;
      report.error = std::to_string(counters.unreadable) + " entries could not be read (first: " +
                     first_error + ")";
    }
    if (target.orphans && !was_cancelled) add_orphans(report, target, ctx);
    log::debug("filesystem audit done", Fields()
            .add("source", "filesystem")
            .add("target", target.name)
            .add("files", counters.files)
            .add("expired", report.stats.expired_count())
            .add("symlinks", counters.symlinks)
            .add("unreadable", counters.unreadable));
    return report;
  }
};

}  // namespace

std::unique_ptr<Source> make_filesystem_source() { return std::make_unique<FilesystemSource>(); }

}  // namespace ttla
