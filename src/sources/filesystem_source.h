#pragma once
// kind: filesystem — files whose modification time + retention has passed, found read-only.
// The walk uses lstat semantics only (fstatat with AT_SYMLINK_NOFOLLOW): it never follows a
// symlink (symlinks are counted and reported), never opens a regular file, never changes
// anything. The walk is parallel (--threads workers, default up to 4): each worker walks depth
// first and hands subdirectories to a shared queue only while it is short, so memory is bounded by
// the tree's depth, not its size: at most workers x (depth + 2) open directory streams and
// bounded statistics per worker, merged at the end (counts identical to a serial walk).
#include <cstdint>
#include <string>

#include "sources/source.h"

namespace ttla {

struct FilesystemWalkCounters {
  uint64_t files = 0;            // regular files examined (after the pattern)
  uint64_t bytes = 0;            // their total size
  uint64_t directories = 0;
  uint64_t symlinks = 0;         // seen, never followed
  uint64_t other = 0;            // sockets, fifos, devices
  uint64_t unreadable = 0;       // directories or entries we could not read
  uint64_t skipped_by_pattern = 0;
  uint64_t expired_bytes = 0;
};

std::unique_ptr<Source> make_filesystem_source();

}  // namespace ttla
