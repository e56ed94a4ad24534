#pragma once
// JSON report outputs: --report FILE, --report-dir DIR (timestamped file + latest.json) and the
// --envelope lambda wrapping. All writes are atomic (sinks/atomic_file.h).
#include <string>

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

void write_report_file(const Report& report, const SinkOptions& options);
// Returns the path of the timestamped file; latest.json is replaced after it.
std::string write_report_dir(const Report& report, const SinkOptions& options);

}  // namespace ttla
