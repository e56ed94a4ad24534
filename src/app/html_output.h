#pragma once
// `--html FILE`: the page of a finished run (sinks/html_report.h) with each target's backlog trend
// read from the history in the state directory. The one place the page is written.
#include <string>

#include "core/report.h"
#include "sinks/html_report.h"

namespace ttla {

// Past runs of every target of `report` from `state_dir` (empty: none), oldest first, ending with
// this run (added when the run did not record itself, e.g. an --as-of what-if). Unreadable
// history leaves that target's trend empty.
TrendHistory load_trend_history(const Report& report, const std::string& state_dir);

// Renders and writes the page. Throws ttla::Error(kIo) when the file cannot be written.
void write_html_output(const std::string& path, const Report& report, const std::string& state_dir);

}  // namespace ttla
