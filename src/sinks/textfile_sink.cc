#include "sinks/textfile_sink.h"

#include <fstream>
#include <sstream>

#include "sinks/atomic_file.h"
#include "sinks/metrics.h"

namespace ttla {

void write_textfile(const Report& report, const std::string& path) {
  MetricsOptions options;
  // The file is replaced whole, so the only memory of a target's last success is the previous
  // file: carry those timestamps over for targets that did not succeed this time.
  std::ifstream in(path);
  if (in) {
    std::ostringstream old;
    old << in.rdbuf();
    options.previous_success = parse_last_success(old.str());
  }
  write_file_atomic(path, metrics_text(report, options));
}

}  // namespace ttla
