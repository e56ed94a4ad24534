#pragma once
// Terminal progress: one updating stderr line (items scanned, rate, % of ItemCount when known,
// read units). Only drawn when stderr is a TTY and --no-progress is absent; log lines wipe it first
// (see logging.cc) so the two never interleave.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "sources/source.h"

namespace ttla {

// 1234567 -> "1,234,567" (terminal output only; logs keep plain numbers).
std::string with_commas(uint64_t n);

// True when stderr is a terminal, TERM is not "dumb" and the user did not pass --no-progress.
bool progress_wanted(bool no_progress);

// Renders the line for one target (exposed for tests): "sessions: 1,234 items  5.6k/s  37% of
// ~3,300  12.5 RCU".
std::string format_progress_line(const std::string& target, const Progress& p,
                                  double elapsed_seconds);

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // Thread-safe; redraws at most every 100 ms.
  void update(const std::string& target, const Progress& p);
  // Wipes the line (end of a target, end of the run).
  void finish();
  // Callback for RunContext::progress; empty function when disabled.
  std::function<void(const std::string&, const Progress&)> callback();

 private:
  bool enabled_;
  std::mutex mutex_;
  std::string target_;
  std::chrono::steady_clock::time_point target_started_;
  std::chrono::steady_clock::time_point last_draw_;
};

// Called by the log sink before it writes: wipes a drawn progress line (no-op otherwise).
void progress_clear_line_for_log();

}  // namespace ttla
