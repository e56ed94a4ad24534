#include "sources/filesystem_kind.h"
#include "sources/fs_orphans.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "core/log.h"

#include "core/error.h"
#include "core/stats.h"
#include "sources/pg_session.h"

namespace ttla {
namespace {

struct Entry {
  std::string key;  // the name, with '/' appended for a directory: sorts as the full paths do
  bool dir = false;
  uint64_t bytes = 0;
  double mtime = 0;
};

struct FdCloser {
  void operator()(DIR* d) const {
    if (d != nullptr) ::closedir(d);
  }
};

class SortedWalk {
 public:
  SortedWalk(const std::string& pattern, const std::function<void(const WalkedFile&)>& on_file,
             const std::function<bool()>& stop, std::string* first_error)
      : pattern_(pattern), on_file_(on_file), stop_(stop), first_error_(first_error) {}

  // Reads one directory's entries (lstat semantics), sorted; then visits them in that order.
  void directory(int fd, std::string& rel) {
    std::unique_ptr<DIR, FdCloser> dir(::fdopendir(fd));
    if (!dir) {
      ::close(fd);
      failed(rel);
      return;
    }
    std::vector<Entry> entries;
    for (;;) {
      errno = 0;
      struct dirent* e = ::readdir(dir.get());
      if (e == nullptr) {
        if (errno != 0) failed(rel);
        break;
      }
      const char* name = e->d_name;
      if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
      struct stat st {};
      if (::fstatat(::dirfd(dir.get()), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        failed(rel + name);
        continue;
      }
      if (S_ISDIR(st.st_mode)) {
        entries.push_back(Entry{std::string(name) + "/", true, 0, 0});
      } else if (S_ISREG(st.st_mode)) {
        if (!pattern_.empty() && ::fnmatch(pattern_.c_str(), name, 0) != 0) continue;
        entries.push_back(Entry{name, false, static_cast<uint64_t>(st.st_size),
                                static_cast<double>(st.st_mtim.tv_sec) +
                                    static_cast<double>(st.st_mtim.tv_nsec) / 1e9});
      }  // symlinks and special files are never orphans of a file table
    }
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.key < b.key; });
    const size_t base = rel.size();
    for (Entry& e : entries) {
      if (stop_ && stop_()) return;
      rel.append(e.key);
      if (e.dir) {
        rel.pop_back();  // openat wants the bare name
        int child = ::openat(::dirfd(dir.get()), rel.c_str() + base,
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        rel.push_back('/');
        if (child < 0) {
          failed(rel);
        } else {
          directory(child, rel);
        }
      } else {
        on_file_(WalkedFile{rel, e.bytes, e.mtime});
      }
      rel.resize(base);
    }
  }

  uint64_t unreadable() const { return unreadable_; }

 private:
  void failed(const std::string& what) {
    ++unreadable_;
    if (first_error_ != nullptr && first_error_->empty()) {
      *first_error_ = (what.empty() ? std::string(".") : what) + ": " + std::strerror(errno);
    }
  }

  const std::string& pattern_;
  const std::function<void(const WalkedFile&)>& on_file_;
  const std::function<bool()>& stop_;
  std::string* first_error_;
  uint64_t unreadable_ = 0;
};

}  // namespace

uint64_t walk_sorted(const std::string& root, const std::string& pattern,
                     const std::function<void(const WalkedFile&)>& on_file,
                     const std::function<bool()>& stop, std::string* first_error) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw Error(ErrorKind::kIo, "cannot open " + root + ": " + std::strerror(errno));
  SortedWalk walk(pattern, on_file, stop, first_error);
  std::string rel;
  rel.reserve(4096);
  walk.directory(fd, rel);
  return walk.unreadable();
}

OrphanMerge::OrphanMerge(double as_of, int64_t min_age, size_t keep,
                         std::function<bool(std::string&)> next_tracked)
    : as_of_(as_of), min_age_(static_cast<double>(min_age)), keep_(keep),
      next_tracked_(std::move(next_tracked)) {}

void OrphanMerge::add(const WalkedFile& f) {
  // Advance the tracked stream to the first path >= this file's (both in byte order).
  while (!tracked_done_ && (!tracked_valid_ || std::string_view(tracked_) < f.path)) {
    tracked_valid_ = next_tracked_(tracked_);
    if (!tracked_valid_) {
      tracked_done_ = true;
      break;
    }
    ++report_.tracked_rows;
  }
  const double age = as_of_ - f.mtime;
  if (!(age >= min_age_)) {
    ++report_.young_files;
    return;
  }
  ++report_.files_checked;
  if (tracked_valid_ && std::string_view(tracked_) == f.path) return;
  ++report_.count;
  report_.bytes += f.bytes;
  report_.oldest_seconds = std::max(report_.oldest_seconds, age);
  if (keep_ == 0) return;
  // Keep the `keep` oldest, oldest first (ties by path, which arrive in order: stable).
  auto older = [](const std::pair<std::string, double>& a, double age_b) { return a.second >= age_b; };
  auto& list = report_.oldest;
  auto pos = std::lower_bound(list.begin(), list.end(), age, older);
  if (list.size() >= keep_ && pos == list.end()) return;
  list.insert(pos, {std::string(f.path), age});
  if (list.size() > keep_) list.pop_back();
}

std::string tracked_paths_sql(const std::string& query, const std::string& quoted_root_prefix) {
  // The user's query is a subquery whose first column is the path; absolute paths under the
  // root lose the root prefix; byte order (COLLATE "C") is the order of the sorted walk.
  return "SELECT rel FROM (SELECT CASE WHEN starts_with(p, " + quoted_root_prefix +
         ") THEN substr(p, length(" + quoted_root_prefix +
         ") + 1) ELSE p END AS rel FROM (SELECT q0.p0::text AS p FROM (" + query +
         ") AS q0(p0)) AS tracked) AS relative WHERE rel IS NOT NULL ORDER BY rel COLLATE \"C\"";
}

OrphanReport find_orphans(const TargetConfig& target, const RunContext& ctx) {
  if (!filesystem_config(target).orphans) throw Error(ErrorKind::kConfig, "filesystem target has no orphans");
  const Orphans& o = *filesystem_config(target).orphans;
  pg::Conn conn = pg::connect(o.dsn);
  pg::Session db(conn.get());
  db.begin_read_only(o.statement_timeout);
  std::string root = filesystem_config(target).path;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  const std::string sql = tracked_paths_sql(o.query, pg::quote_literal(conn.get(), root + "/"));
  log::debug("orphans", Fields().add("target", target.name).add("sql", sql));
  db.exec("DECLARE ttla_tracked NO SCROLL CURSOR FOR " + sql);

  // The tracked stream: one FETCH batch in memory at a time.
  pg::Result batch;
  int row = 0, rows = 0;
  bool exhausted = false;
  uint64_t fetches = 0;
  auto next_tracked = [&](std::string& out) {
    while (row >= rows) {
      if (exhausted) return false;
      batch = db.exec("FETCH FORWARD " + std::to_string(kFetchRows) + " FROM ttla_tracked");
      ++fetches;
      rows = PQntuples(batch.get());
      row = 0;
      if (rows < kFetchRows) exhausted = true;
      if (rows == 0) return false;
    }
    out.assign(PQgetvalue(batch.get(), row, 0),
               static_cast<size_t>(PQgetlength(batch.get(), row, 0)));
    ++row;
    return true;
  };
  OrphanMerge merge(static_cast<double>(ctx.as_of), o.min_age,
                    static_cast<size_t>(std::max(0, target.top_k)), next_tracked);
  std::string first_error;
  auto stop = [&] { return ctx.cancel != nullptr && ctx.cancel->load(); };
  const uint64_t unreadable = walk_sorted(
      filesystem_config(target).path, filesystem_config(target).pattern, [&](const WalkedFile& f) { merge.add(f); }, stop, &first_error);
  db.exec("CLOSE ttla_tracked");
  db.exec("COMMIT");
  OrphanReport r = merge.result();
  r.unreadable = unreadable;
  r.fetches = fetches;
  if (stop()) throw Error(ErrorKind::kIo, "cancelled during the orphan walk");
  if (unreadable > 0) {
    log::warn("orphans", Fields()
            .add("target", target.name)
            .add("unreadable", unreadable)
            .add("first", first_error));
  }
  return r;
}

nlohmann::json orphans_section(const OrphanReport& r, const TargetConfig& target, uint64_t seed) {
  nlohmann::json sample = nlohmann::json::array();
  for (const auto& [path, age] : r.oldest) {
    sample.push_back(target.redact_keys ? redact_key(path, seed) : path);
  }
  return {{"source", "postgres"},
          {"min_age_seconds", filesystem_config(target).orphans ? filesystem_config(target).orphans->min_age : 0},
          {"count", r.count},
          {"bytes", r.bytes},
          {"oldest_seconds", r.oldest_seconds},
          {"sample", sample},
          {"files_checked", r.files_checked},
          {"young_files", r.young_files},
          {"tracked_rows_read", r.tracked_rows},
          {"unreadable", r.unreadable}};
}

}  // namespace ttla
