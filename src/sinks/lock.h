#pragma once
// RunLock: an exclusive flock(2), so overlapping runs on one host (a slow hourly timer catching up
// with the next one) publish one after the other instead of interleaving report-dir/textfile/
// history writes. Outputs are guarded by a lock on their directory itself (no file is left among
// the outputs); the history by a lock file in the state directory. The kernel drops the lock when the process
// dies, so a crashed run never leaves a stale lock behind.
#include <string>

#include "sinks/sinks.h"

namespace ttla {

class RunLock {
 public:
  // Creates `path` if missing and takes the lock, waiting up to `wait_seconds` (negative: wait
  // forever, 0: try once). Re-entrant within one process: a second RunLock on the same path
  // (the CLI's run-level lock, then publish()'s sink-level one) shares the first one's lock.
  // Throws ttla::Error(kIo) when the file cannot be opened or the wait times out.
  // kDirectory: `path` is a directory (created when missing) and its own descriptor is locked.
  enum class Target { kFile, kDirectory };
  explicit RunLock(std::string path, double wait_seconds = -1, Target target = Target::kFile);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  const std::string& path() const { return path_; }

  // The directory of the first file output (--report-dir, --report, --textfile, in that order;
  // symlinks followed, stdout skipped), to lock with Target::kDirectory; empty when none.
  static std::string default_path(const SinkOptions& options);

 private:
  std::string path_;  // as opened; the re-entrancy table is keyed by the canonical path
  std::string key_;
};

}  // namespace ttla
