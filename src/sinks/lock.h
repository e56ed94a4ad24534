#pragma once
// RunLock: an exclusive flock(2) on a lock file next to the outputs, so overlapping runs on one
// host (a slow hourly timer catching up with the next one) publish one after the other instead of
// interleaving report-dir/textfile/history writes. The kernel drops the lock when the process
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
  explicit RunLock(std::string path, double wait_seconds = -1);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  const std::string& path() const { return path_; }

  // `.ttl-auditor.lock` in the directory of the first file output (--report-dir, --report,
  // --textfile, in that order); empty when no file output is configured.
  static std::string default_path(const SinkOptions& options);

 private:
  std::string path_;  // as opened; the re-entrancy table is keyed by the canonical path
  std::string key_;
};

}  // namespace ttla
