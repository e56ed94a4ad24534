#pragma once
// History of past runs, one JSON-lines file per target in the state directory, bounded in length.
#include <string>
#include <vector>

#include "checks/anomalies.h"

namespace ttla {

// The point this run contributes (expired count as reported, oldest overdue, status).
HistoryPoint history_point(const TargetReport& report, double finished_at);

class HistoryStore {
 public:
  explicit HistoryStore(std::string state_dir);  // empty dir: history disabled
  // Oldest first. A missing file is an empty history; corrupt lines are skipped with a warning.
  std::vector<HistoryPoint> load(const std::string& target) const;
  // Appends and trims to `keep` points; written to a temp file and renamed.
  // Throws ttla::Error(kIo) when the state directory cannot be written.
  void append(const std::string& target, const HistoryPoint& point, int keep);
  bool enabled() const { return !dir_.empty(); }
  std::string path_for(const std::string& target) const;

 private:
  std::string dir_;
};

}  // namespace ttla
