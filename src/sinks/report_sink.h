#pragma once
// JSON report outputs: --report FILE, --report-dir DIR (timestamped file + latest.json) and the
// --envelope lambda wrapping. All writes are atomic (sinks/atomic_file.h).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/report.h"
#include "sinks/sinks.h"

namespace ttla {

// The document the report outputs write: report_to_json(), or its envelope when asked.
// Throws ttla::Error(kConfig) for an unknown envelope name.
nlohmann::json report_document(const Report& report, const SinkOptions& options);

// {statusCode: 200, body: {message, summary, expired_stats, table_metrics, targets}}: the shape
// hand-written cleanup-monitor Lambdas return, so their consumers keep working (mapping in .cc).
nlohmann::json lambda_envelope(const Report& report);

// `ttl-auditor-YYYYMMDDTHHMMSSZ-<runid8>.json` from the run's start time (UTC) and id.
std::string report_dir_file_name(const Report& report);

// Writes --report through write_output (sinks/output.h: `-` is stdout, symlinks are followed);
// returns where it went ("stdout" or the file).
std::string write_report_file(const Report& report, const SinkOptions& options);
// Returns the path of the timestamped file; latest.json is replaced after it, then the directory
// is pruned when options.keep / options.keep_days ask for it.
std::string write_report_dir(const Report& report, const SinkOptions& options);

// The run start time encoded in a name report_dir_file_name made; nullopt for any other name
// (pruning never touches files this tool did not name).
std::optional<int64_t> report_dir_file_time(const std::string& name);

// Removes this tool's timestamped reports in `dir` beyond the newest `keep` (0: no limit) and
// those of runs started more than `keep_days` days before `now` (0: no limit), never `protect`
// (the file just written) nor latest.json nor any file with another name. Returns the removed
// paths. Throws ttla::Error(kIo) when the directory cannot be listed or a file not removed.
std::vector<std::string> prune_report_dir(const std::string& dir, int keep, int keep_days,
                                          double now, const std::string& protect);

}  // namespace ttla
