#pragma once
// The end of a run as an operator reads it: on a terminal a table (target, status, expired with
// its 95% interval when sampled, oldest overdue in days/hours, anomalies) and the outputs written;
// otherwise the same figures as fields of the closing log line.
#include <string>
#include <vector>

#include "core/log_fields.h"
#include "core/report.h"
#include "sinks/sinks.h"

namespace ttla {

// 273600 -> "3d 4h", 7500 -> "2h 5m", 65 -> "1m 5s", 42 -> "42s", 0.4 -> "0.4s".
std::string human_duration(double seconds);

// The terminal summary: a table with one row per target, the outputs written ("report written
// to ..."), and a closing line with the run's status, duration and exit code.
std::string summary_table(const Report& report, const std::vector<WrittenOutput>& written,
                          int exit_code);

// The summary as log fields: targets and their statuses, expired total, oldest overdue (seconds
// and human), anomaly counts by severity, and where each output went (<sink>_path=...).
Fields summary_fields(const Report& report, const std::vector<WrittenOutput>& written);

}  // namespace ttla
