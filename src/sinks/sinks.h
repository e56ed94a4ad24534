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
  // --report-dir retention, applied after each write to files this tool named
  // (report_dir_file_name); 0 = keep all.
  int keep = 0;                 // --keep N: the newest N reports
  int keep_days = 0;            // --keep-days D: reports of runs started in the last D days
};

// An output a publish() call wrote: sink name and where ("stdout", a file, a URL).
struct WrittenOutput {
  std::string sink;
  std::string where;
};

// Returns one message per sink that failed (empty when all succeeded), prefixed by the sink's
// name; failures are not logged here (app/post_audit.h logs each once). `written`, when given,
// receives every output that was written.
std::vector<std::string> publish(const Report& report, const SinkOptions& options,
                                 std::vector<WrittenOutput>* written = nullptr);

// Every configured file output checked before an audit (sinks/output.h): one message per output
// that could not be written ("--report out/r.json: directory out: No such file or directory").
std::vector<std::string> check_outputs(const SinkOptions& options);

// Whether any output is configured at all (else the results exist only in the log).
bool has_outputs(const SinkOptions& options);

}  // namespace ttla
