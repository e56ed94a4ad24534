#pragma once
// node_exporter textfile collector output: the whole metric model in one *.prom file, replaced
// atomically. A failed target keeps the success timestamp the previous file had for it.
#include <string>

#include "core/report.h"

namespace ttla {

// `path` goes through write_output (sinks/output.h); returns where the metrics went.
std::string write_textfile(const Report& report, const std::string& path);

}  // namespace ttla
