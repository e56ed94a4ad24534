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


#include "core/error.h"
#include "core/log.h"
#include "core/time.h"
#include "sources/filesystem_kind.h"
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
  const std::string* pattern;  // the target's file name glob (empty: every file)
  const RunContext* ctx;
  double retention;
  double as_of;
  std::atomic<uint64_t>* files_seen;
  std::atomic<bool>* cancelled;
};

// Walks `start` and everything below it that is not handed to the queue, depth first on its
// own stack of open directories.
class DirWalk {
 public:
  DirWalk(Walker& w, WorkQueue& queue, const WalkSettings& cfg) : w_(w), queue_(queue), cfg_(cfg) {}
  void run(Pending start);

 private:
  struct Frame {
    DirHandle dir;
    size_t path_length;  // length of `rel_` for this directory (with its '/')
  };
  bool cancelled();
  void leave_directory();
  void visit(int dir_fd, const char* name, unsigned char type);
  void enter_directory(int dir_fd, const char* name);
  void add_file(const char* name, const struct stat& st);
  void count_progress();
  void unreadable(const char* name);

  Walker& w_;
  WorkQueue& queue_;
  const WalkSettings& cfg_;
  std::vector<Frame> stack_;
  std::string rel_;  // the current directory, relative to the root ("a/b/")
  uint64_t since_progress_ = 0;
};

// Reads entries until the stack is empty (or the walk is cancelled).
void DirWalk::run(Pending start) {
  rel_ = std::move(start.rel);
  rel_.reserve(4096);
  stack_.push_back(Frame{std::move(start.dir), rel_.size()});
  while (!stack_.empty()) {
    if (cancelled()) return;
    errno = 0;
    struct dirent* entry = ::readdir(stack_.back().dir.get());
    if (entry == nullptr) {
      if (errno != 0) unreadable("");
      leave_directory();
      continue;
    }
    const char* name = entry->d_name;
    if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
    visit(::dirfd(stack_.back().dir.get()), name, entry->d_type);
  }
  cfg_.files_seen->fetch_add(since_progress_);
}

// A cancelled target stops every worker.
bool DirWalk::cancelled() {
  if (cfg_.ctx->cancel == nullptr || !cfg_.ctx->cancel->load()) return false;
  cfg_.cancelled->store(true);
  queue_.stop();
  return true;
}

void DirWalk::leave_directory() {
  stack_.pop_back();
  if (!stack_.empty()) rel_.resize(stack_.back().path_length);
}

// One entry: lstat'ed when its type is unknown or it is a regular file (never followed), then
// counted as a symlink, a directory to walk, a file to judge or something else.
void DirWalk::visit(int dir_fd, const char* name, unsigned char type) {
  struct stat st {};
  bool have_stat = false;
  if (type == DT_UNKNOWN || type == DT_REG) {
    if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      unreadable(name);
      return;
    }
    have_stat = true;
    type = S_ISREG(st.st_mode)   ? DT_REG
           : S_ISDIR(st.st_mode) ? DT_DIR
           : S_ISLNK(st.st_mode) ? DT_LNK
                                 : DT_UNKNOWN;
  }
  if (type == DT_LNK) {
    ++w_.counters.symlinks;
  } else if (type == DT_DIR) {
    ++w_.counters.directories;
    enter_directory(dir_fd, name);
  } else if (type != DT_REG) {
    ++w_.counters.other;
  } else if (have_stat) {  // regular files are always stat'ed above
    add_file(name, st);
  }
}

// A subdirectory: handed to the queue while it is short, else walked next on this stack.
void DirWalk::enter_directory(int dir_fd, const char* name) {
  int fd = ::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR* child = fd < 0 ? nullptr : ::fdopendir(fd);
  if (child == nullptr) {
    if (fd >= 0) ::close(fd);
    unreadable(name);
    return;
  }
  if (queue_.wants_work()) {
    queue_.push(Pending{DirHandle(child), rel_ + name + "/"});
    return;
  }
  rel_.append(name).push_back('/');
  stack_.push_back(Frame{DirHandle(child), rel_.size()});
}

// A regular file matching the pattern: expired when mtime + retention has passed, grouped by its
// top-level folder.
void DirWalk::add_file(const char* name, const struct stat& st) {
  if (!cfg_.pattern->empty() && ::fnmatch(cfg_.pattern->c_str(), name, 0) != 0) {
    ++w_.counters.skipped_by_pattern;
    return;
  }
  ++w_.counters.files;
  const auto size = static_cast<uint64_t>(st.st_size);
  w_.counters.bytes += size;
  const double deadline = mtime_seconds(st) + cfg_.retention;
  if (deadline <= cfg_.as_of) {
    const size_t base = rel_.size();
    rel_.append(name);
    const size_t slash = rel_.find('/');
    std::string_view folder =
        slash == std::string::npos ? std::string_view(".") : std::string_view(rel_).substr(0, slash);
    w_.stats.add_expired(rel_, deadline, cfg_.as_of - deadline, size, folder);
    w_.folder_bytes.add(folder, size);
    w_.counters.expired_bytes += size;
    rel_.resize(base);
  } else {
    w_.stats.count(ItemClass::kNotYetExpired);
  }
  count_progress();
}

// Progress roughly every 65536 files across the workers (the shared count moves by 4096).
void DirWalk::count_progress() {
  if (++since_progress_ < 4096) return;
  const uint64_t seen = cfg_.files_seen->fetch_add(since_progress_) + since_progress_;
  since_progress_ = 0;
  if (cfg_.ctx->progress && (seen & ~uint64_t{65535}) != ((seen - 4096) & ~uint64_t{65535})) {
    cfg_.ctx->progress(cfg_.target->name, Progress{seen, std::nullopt, 0});
  }
}

// An entry (or, with an empty name, the current directory) that could not be read.
void DirWalk::unreadable(const char* name) {
  ++w_.counters.unreadable;
  if (w_.first_error.empty()) w_.first_error = rel_ + name + ": " + std::strerror(errno);
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
    log::warn("orphans unavailable", Fields().add("source", "filesystem").add("target", target.name).add("error", reason));
    report.extra["orphans"] = {{"source", "postgres"}, {"error", reason}};
    report.status = Status::kPartial;
    report.error = report.error ? *report.error + "; " + reason : reason;
  }
}

// The root directory, opened without following a symlink.
DirHandle open_root(const std::string& path) {
  int root_fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root_fd < 0) throw Error(ErrorKind::kIo, "cannot open " + path + ": " + std::strerror(errno));
  DIR* root = ::fdopendir(root_fd);
  if (root == nullptr) {
    ::close(root_fd);
    throw Error(ErrorKind::kIo, "cannot read " + path + ": " + std::strerror(errno));
  }
  return DirHandle(root);
}

// --threads N walks with N workers; 0 (auto): up to 4, no more than the cores.
int walker_count(const RunContext& ctx) {
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  return ctx.threads > 0 ? ctx.threads : static_cast<int>(std::min(4u, hw));
}

// The walk's outcome: every worker's share, and whether it was cancelled.
struct WalkResult {
  std::vector<Walker> walkers;
  bool cancelled = false;
};

// Walks the tree from `root` with `workers` threads (the caller's thread alone when 1).
WalkResult walk_tree(DirHandle root, int workers, const StatsOptions& stats_options,
                     const TargetConfig& target, const RunContext& ctx) {
  std::atomic<uint64_t> files_seen{0};
  std::atomic<bool> cancelled{false};
  const WalkSettings cfg{&target, &filesystem_config(target).pattern, &ctx,
                         static_cast<double>(*target.retention),
                         static_cast<double>(ctx.as_of), &files_seen, &cancelled};
  WorkQueue queue(static_cast<size_t>(workers));
  WalkResult result;
  result.walkers.reserve(static_cast<size_t>(workers));
  for (int i = 0; i < workers; ++i) result.walkers.emplace_back(stats_options);
  queue.set_busy(workers);
  queue.push(Pending{std::move(root), std::string()});
  auto run = [&](size_t i) {
    Pending p;
    while (queue.pop(p)) DirWalk(result.walkers[i], queue, cfg).run(std::move(p));
  };
  if (workers == 1) {
    run(0);
  } else {
    std::vector<std::thread> threads;
    threads.reserve(static_cast<size_t>(workers));
    for (int i = 0; i < workers; ++i) threads.emplace_back(run, static_cast<size_t>(i));
    for (auto& t : threads) t.join();
  }
  result.cancelled = cancelled.load();
  return result;
}

// The workers' counts, statistics (into `stats`) and folders merged; the first error by path.
struct Merged {
  FilesystemWalkCounters counters;
  TopGroups folder_bytes;
  std::string first_error;
};
Merged merge_walkers(std::vector<Walker>& walkers, TargetStats& stats) {
  Merged m;
  for (Walker& w : walkers) {
    m.counters.files += w.counters.files;
    m.counters.bytes += w.counters.bytes;
    m.counters.directories += w.counters.directories;
    m.counters.symlinks += w.counters.symlinks;
    m.counters.other += w.counters.other;
    m.counters.unreadable += w.counters.unreadable;
    m.counters.skipped_by_pattern += w.counters.skipped_by_pattern;
    m.counters.expired_bytes += w.counters.expired_bytes;
    stats.merge(w.stats);
    m.folder_bytes.merge(w.folder_bytes);
    if (!w.first_error.empty() && (m.first_error.empty() || w.first_error < m.first_error)) {
      m.first_error = w.first_error;
    }
  }
  return m;
}

// The `filesystem` section, and the status: partial when cancelled or something was unreadable
// (the counts are then a lower bound).
void fill_report(TargetReport& report, const Merged& m, bool cancelled, const TargetConfig& target) {
  const FilesystemWalkCounters& c = m.counters;
  report.scan.items_scanned = c.files;
  nlohmann::json top_folders = nlohmann::json::array();
  for (const auto& [folder, bytes] : m.folder_bytes.top(static_cast<size_t>(target.top_k))) {
    top_folders.push_back({{"folder", folder}, {"expired_bytes", bytes}});
  }
  report.extra["filesystem"] = {
      {"path", filesystem_config(target).path},
      {"files", c.files},
      {"bytes", c.bytes},
      {"directories", c.directories},
      {"symlinks", c.symlinks},
      {"other", c.other},
      {"unreadable", c.unreadable},
      {"skipped_by_pattern", c.skipped_by_pattern},
      {"top_folders_by_expired_bytes", top_folders},
  };
  if (cancelled) {
    report.status = Status::kPartial;
    report.error = "cancelled after " + std::to_string(c.files) + " files";
  } else if (c.unreadable > 0) {
    report.status = Status::kPartial;
    report.error = std::to_string(c.unreadable) + " entries could not be read (first: " +
                   m.first_error + ")";
  }
}

class FilesystemSource final : public Source {
 public:
  // open the root -> plan the workers -> walk -> merge -> report (+ orphans).
  TargetReport audit(const TargetConfig& target, const RunContext& ctx) override {
    if (!target.retention) throw Error(ErrorKind::kConfig, "filesystem target needs retention");
    const auto started = std::chrono::steady_clock::now();
    TargetReport report;
    report.name = target.name;
    report.kind = "filesystem";
    const StatsOptions stats_options{static_cast<size_t>(target.top_k), ctx.seed,
                                     target.redact_keys, static_cast<size_t>(target.top_k)};
    report.stats = TargetStats(stats_options);
    report.scan.mode = "full";

    DirHandle root = open_root(filesystem_config(target).path);
    WalkResult walked = walk_tree(std::move(root), walker_count(ctx), stats_options, target, ctx);
    const Merged merged = merge_walkers(walked.walkers, report.stats);
    report.scan.duration_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    fill_report(report, merged, walked.cancelled, target);
    if (filesystem_config(target).orphans && !walked.cancelled) add_orphans(report, target, ctx);
    log::debug("filesystem audit done", Fields()
                                             .add("source", "filesystem")
                                             .add("target", target.name)
                                             .add("files", merged.counters.files)
                                             .add("expired", report.stats.expired_count())
                                             .add("symlinks", merged.counters.symlinks)
                                             .add("unreadable", merged.counters.unreadable));
    return report;
  }
};

}  // namespace

std::unique_ptr<Source> make_filesystem_source() { return std::make_unique<FilesystemSource>(); }

}  // namespace ttla
