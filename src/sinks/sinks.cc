#include "sinks/sinks.h"

#include <exception>
#include <optional>

#include "core/log.h"

#include "core/error.h"
#include "core/log_fields.h"
#include "sinks/lock.h"
#include "sinks/output.h"
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
    errors.push_back(std::string(sink) + ": " + e.what());
  }
}

}  // namespace

std::vector<std::string> check_outputs(const SinkOptions& options) {
  std::vector<std::string> problems;
  auto check = [&](const char* flag, const std::string& path, bool is_dir) {
    if (path.empty()) return;
    const auto p = is_dir ? output_dir_problem(path) : output_problem(path);
    if (p) problems.push_back(std::string(flag) + " " + *p);
  };
  check("--report", options.report_file, false);
  check("--report-dir", options.report_dir, true);
  check("--textfile", options.textfile, false);
  return problems;
}

bool has_outputs(const SinkOptions& options) {
  return !options.report_file.empty() || !options.report_dir.empty() ||
         !options.textfile.empty() || !options.pushgateway_url.empty();
}

std::vector<std::string> publish(const Report& report, const SinkOptions& options,
                                 std::vector<WrittenOutput>* written) {
  std::vector<std::string> errors;
  auto wrote = [written](const char* sink, const std::string& where) {
    log::info("output written", Fields().add("sink", sink).add("path", where));
    if (written != nullptr) written->push_back({sink, where});
  };
  std::optional<RunLock> lock;
  std::string lock_path = RunLock::default_path(options);
  if (!lock_path.empty()) {
    try {
      lock.emplace(lock_path, kLockWaitSeconds, RunLock::Target::kDirectory);
    } catch (const std::exception& e) {
      // Writing without the lock could interleave with the other run; report, do not write.
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
    attempt("report", errors, [&] { wrote("report", write_report_file(report, options)); });
  }
  if (!options.report_dir.empty()) {
    attempt("report_dir", errors, [&] {
      wrote("report_dir", write_report_dir(report, options));
    });
  }
  if (!options.textfile.empty()) {
    attempt("textfile", errors, [&] { wrote("textfile", write_textfile(report, options.textfile)); });
  }
  if (!options.pushgateway_url.empty()) {
    attempt("pushgateway", errors, [&] {
      const auto push_errors = push_to_gateway(report, options.pushgateway_url);
      for (auto& e : push_errors) errors.push_back(e);
      if (push_errors.empty()) wrote("pushgateway", options.pushgateway_url);
    });
  }
  return errors;
}

}  // namespace ttla
