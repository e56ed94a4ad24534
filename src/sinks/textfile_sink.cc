#include "sinks/textfile_sink.h"

#include <fstream>
#include <sstream>

#include "sinks/output.h"
#include "sinks/metrics.h"

namespace ttla {

std::string write_textfile(const Report& report, const std::string& path) {
  MetricsOptions options;
  // The file is replaced whole, so the only memory of a target's last success is the previous
  // file: carry those timestamps over for targets that did not succeed this time.
  const OutputDestination dest = resolve_output(path);
  if (!dest.is_stream()) {
    std::ifstream in(dest.path);
    if (in) {
      std::ostringstream old;
      old << in.rdbuf();
      options.previous_success = parse_last_success(old.str());
    }
  }
  return write_output(path, metrics_text(report, options)).describe();
}

}  // namespace ttla
