#pragma once
// Publishing a finished report. Every configured sink is attempted; one failing sink does not
// stop the others. Metrics come from one model (sinks/metrics.h) for textfile, Pushgateway and
// the `serve` exporter.
#include <string>
#include <vector>

#include "core/report.h"

namespace ttla {

struct SinkOptions {
  std::string report_file;      // --report FILE
  std::string report_dir;       // --report-dir DIR: timestamped file + latest.json, atomic
  std::string textfile;         // --textfile FILE (node_exporter textfile collector)
  std::string pushgateway_url;  // --pushgateway URL
  std::string envelope;         // --envelope lambda
  bool with_state = false;      // shard reports carry mergeable state
};

// Returns one message per sink that failed (empty when all succeeded).
std::vector<std::string> publish(const Report& report, const SinkOptions& options);

}  // namespace ttla
