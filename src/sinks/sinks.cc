#include "sinks/sinks.h"

#include <exception>
#include <optional>

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "sinks/lock.h"
#include "sinks/pushgateway_sink.h"
#include "sinks/report_sink.h"
#include "sinks/textfile_sink.h"

namespace ttla {
namespace {

// How long publish() waits for an overlapping run to finish its outputs before giving up.
constexpr double kLockWaitSeconds = 600;

template <typename Fn>
void attempt(const char* sink, std::vector<std::string>& errors, Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    spdlog::error("sink={} error=\"{}\"", sink, e.what());
    errors.push_back(std::string(sink) + ": " + e.what());
  }
}

}  // namespace

std::vector<std::string> publish(const Report& report, const SinkOptions& options) {
  std::vector<std::string> errors;
  std::optional<RunLock> lock;
  std::string lock_path = RunLock::default_path(options);
  if (!lock_path.empty()) {
    try {
      lock.emplace(lock_path, kLockWaitSeconds);
    } catch (const std::exception& e) {
      // Writing without the lock could interleave with the other run; report, do not write.
      spdlog::error("sink=lock error=\"{}\"", e.what());
      errors.push_back(std::string("lock: ") + e.what());
      if (!options.pushgateway_url.empty()) {
        attempt("pushgateway", errors, [&] {
          for (auto& e2 : push_to_gateway(report, options.pushgateway_url)) errors.push_back(e2);
        });
      }
      return errors;
    }
  }
  if (!options.report_file.empty()) {
    attempt("report", errors, [&] { write_report_file(report, options); });
  }
  if (!options.report_dir.empty()) {
    attempt("report_dir", errors, [&] {
      std::string path = write_report_dir(report, options);
      spdlog::info("sink=report_dir file={}", path);
    });
  }
  if (!options.textfile.empty()) {
    attempt("textfile", errors, [&] { write_textfile(report, options.textfile); });
  }
  if (!options.pushgateway_url.empty()) {
    attempt("pushgateway", errors, [&] {
      for (auto& e : push_to_gateway(report, options.pushgateway_url)) errors.push_back(e);
    });
  }
  return errors;
}

}  // namespace ttla
