#pragma once
// Filesystem orphans: files under a filesystem target's path, older than `orphans.min_age`, that
// the database query `orphans.query` does not return (uploads whose row is gone, renditions of
// deleted records). Both sides are streamed in one byte order and merged, so neither is held in
// memory whole:
//  - the tree is walked in byte order of relative paths (each directory's entries sorted, a
//    directory sorting as "name/"), read-only like the main walk (no symlink followed, no file
//    opened); memory is one entry list per directory level being walked;
//  - the query runs in the PostgreSQL source's read-only transaction, wrapped in a server-side
//    cursor ordered by the path COLLATE "C" (byte order) and fetched kFetchRows rows at a time.
// A tracked value is a path relative to the target's path; an absolute path under it is made
// relative on the server (so `/var/tmp/images/a/b.jpg` and `a/b.jpg` both match that file).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sources/source.h"

namespace ttla {

inline constexpr int kFetchRows = 10000;

struct OrphanReport {
  uint64_t count = 0;
  uint64_t bytes = 0;
  double oldest_seconds = 0;         // age (as_of - mtime) of the oldest orphan
  std::vector<std::pair<std::string, double>> oldest;  // up to `keep`: (path, age), oldest first
  uint64_t files_checked = 0;        // files old enough to be orphans, looked up
  uint64_t young_files = 0;          // younger than min_age: never orphans
  uint64_t tracked_rows = 0;         // rows the query returned (read so far)
  uint64_t unreadable = 0;           // entries the sorted walk could not read
  uint64_t fetches = 0;              // FETCH statements sent
};

// One file of the sorted walk.
struct WalkedFile {
  std::string_view path;  // relative to the root, '/'-separated
  uint64_t bytes = 0;
  double mtime = 0;
};

// Walks `root` in byte order of relative paths, calling `on_file` for each regular file whose
// name matches `pattern` (fnmatch; empty = all). Returns the number of entries it could not read
// (the first one's reason in `first_error`). `stop` is polled; when it returns true the walk ends.
uint64_t walk_sorted(const std::string& root, const std::string& pattern,
                     const std::function<void(const WalkedFile&)>& on_file,
                     const std::function<bool()>& stop, std::string* first_error);

// Merges a sorted walk with a sorted stream of tracked paths (`next_tracked` returns false at the
// end). Pure over its inputs; `keep` bounds the oldest list.
class OrphanMerge {
 public:
  OrphanMerge(double as_of, int64_t min_age, size_t keep,
              std::function<bool(std::string&)> next_tracked);
  void add(const WalkedFile& f);
  OrphanReport& result() { return report_; }

 private:
  double as_of_;
  double min_age_;
  size_t keep_;
  std::function<bool(std::string&)> next_tracked_;
  std::string tracked_;
  bool tracked_valid_ = false;
  bool tracked_done_ = false;
  OrphanReport report_;
};

// The statement the cursor runs for `query` under `root` (for tests and debug logs).
std::string tracked_paths_sql(const std::string& query, const std::string& quoted_root_prefix);

// Finds the orphans of a filesystem target with `orphans` set. Throws ttla::Error (kNetwork,
// kDatabase, kIo) when the database or the tree cannot be read; the caller decides what that
// does to the target.
OrphanReport find_orphans(const TargetConfig& target, const RunContext& ctx);

// The report section {count, bytes, oldest_seconds, sample (the oldest orphans' paths, oldest
// first; hashed with `seed` under redact_keys), min_age_seconds, ...}.
nlohmann::json orphans_section(const OrphanReport& r, const TargetConfig& target, uint64_t seed);

}  // namespace ttla
