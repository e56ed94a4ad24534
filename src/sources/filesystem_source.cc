#include "sources/filesystem_source.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/time.h"

namespace ttla {
namespace {

struct DirCloser {
  void operator()(DIR* d) const {
    if (d != nullptr) ::closedir(d);
  }
};
using DirHandle = std::unique_ptr<DIR, DirCloser>;

struct Frame {
  DirHandle dir;
  size_t path_length;  // length of the relative path buffer for this directory (with a '/')
};

double mtime_seconds(const struct stat& st) {
  return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) / 1e9;
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
    report.stats = TargetStats(StatsOptions{static_cast<size_t>(target.top_k), ctx.seed,
                                            target.redact_keys, static_cast<size_t>(target.top_k)});
    report.scan.mode = "full";

    const double retention = static_cast<double>(*target.retention);
    const double as_of = static_cast<double>(ctx.as_of);
    FilesystemWalkCounters counters;
    TopGroups folder_bytes;  // expired bytes per top-level folder

    int root_fd = ::open(target.path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (root_fd < 0) {
      throw Error(ErrorKind::kIo, "cannot open " + target.path + ": " + std::strerror(errno));
    }
    DIR* root = ::fdopendir(root_fd);
    if (root == nullptr) {
      ::close(root_fd);
      throw Error(ErrorKind::kIo, "cannot read " + target.path + ": " + std::strerror(errno));
    }

    std::vector<Frame> stack;
    stack.push_back(Frame{DirHandle(root), 0});
    std::string rel;  // path relative to the root: "a/b/" while inside a/b
    rel.reserve(4096);
    std::string first_error;
    uint64_t since_progress = 0;
    bool cancelled = false;

    while (!stack.empty()) {
      if (ctx.cancel != nullptr && ctx.cancel->load()) {
        cancelled = true;
        break;
      }
      Frame& frame = stack.back();
      errno = 0;
      struct dirent* entry = ::readdir(frame.dir.get());
      if (entry == nullptr) {
        if (errno != 0) {
          ++counters.unreadable;
          if (first_error.empty()) first_error = rel + ": " + std::strerror(errno);
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
          ++counters.unreadable;
          if (first_error.empty()) first_error = rel + name + ": " + std::strerror(errno);
          continue;
        }
        have_stat = true;
        type = S_ISREG(st.st_mode)   ? DT_REG
               : S_ISDIR(st.st_mode) ? DT_DIR
               : S_ISLNK(st.st_mode) ? DT_LNK
                                     : DT_UNKNOWN;
      }

      if (type == DT_LNK) {
        ++counters.symlinks;
        continue;
      }
      if (type == DT_DIR) {
        ++counters.directories;
        int fd = ::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR* child = fd < 0 ? nullptr : ::fdopendir(fd);
        if (child == nullptr) {
          if (fd >= 0) ::close(fd);
          ++counters.unreadable;
          if (first_error.empty()) first_error = rel + name + ": " + std::strerror(errno);
          continue;
        }
        rel.append(name).push_back('/');
        stack.push_back(Frame{DirHandle(child), rel.size()});
        continue;
      }
      if (type != DT_REG) {
        ++counters.other;
        continue;
      }
      if (!have_stat) continue;  // unreachable: regular files are always stat'ed above
      if (!target.pattern.empty() && ::fnmatch(target.pattern.c_str(), name, 0) != 0) {
        ++counters.skipped_by_pattern;
        continue;
      }
      ++counters.files;
      const auto size = static_cast<uint64_t>(st.st_size);
      counters.bytes += size;
      const double deadline = mtime_seconds(st) + retention;
      if (deadline <= as_of) {
        const size_t base = rel.size();
        rel.append(name);
        // The group is the first path component: the top-level folder the file lives under.
        const size_t slash = rel.find('/');
        std::string_view folder =
            slash == std::string::npos ? std::string_view(".") : std::string_view(rel).substr(0, slash);
        report.stats.add_expired(rel, deadline, as_of - deadline, size, folder);
        folder_bytes.add(folder, size);
        counters.expired_bytes += size;
        rel.resize(base);
      } else {
        report.stats.count(ItemClass::kNotYetExpired);
      }
      if (++since_progress >= 65536 && ctx.progress) {
        since_progress = 0;
        ctx.progress(target.name, Progress{counters.files, std::nullopt, 0});
      }
    }

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
    if (cancelled) {
      report.status = Status::kPartial;
      report.error = "cancelled after " + std::to_string(counters.files) + " files";
    } else if (counters.unreadable > 0) {
      // Something could not be read: the counts are a lower bound, so say so.
      report.status = Status::kPartial;
      report.error = std::to_string(counters.unreadable) + " entries could not be read (first: " +
                     first_error + ")";
    }
    spdlog::debug("source=filesystem target={} files={} expired={} symlinks={} unreadable={}",
                  target.name, counters.files, report.stats.expired_count(), counters.symlinks,
                  counters.unreadable);
    return report;
  }
};

}  // namespace

std::unique_ptr<Source> make_filesystem_source() { return std::make_unique<FilesystemSource>(); }

}  // namespace ttla
