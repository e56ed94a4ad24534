#pragma once
// History of past runs, one JSON-lines file per target in the state directory, bounded in length.
#include <string>
#include <vector>

#include "checks/anomalies.h"

namespace ttla {

class HistoryStore {
 public:
  explicit HistoryStore(std::string state_dir);  // empty dir: history disabled
  std::vector<HistoryPoint> load(const std::string& target) const;
  // Appends and trims to `keep` points; written to a temp file and renamed.
  void append(const std::string& target, const HistoryPoint& point, int keep);

 private:
  std::string dir_;
};

}  // namespace ttla
