#pragma once
// Terminal progress: one stderr line per target, redrawn in place ("\r" + clear line) at most
// kProgressRedrawHz times a second: items scanned, share done (of DynamoDB's approximate
// ItemCount, else of the segments read), items/s, read units/s and an ETA. Only drawn when stderr
// is a TTY and --no-progress is absent; log lines wipe it first (see logging.cc) so the two never
// interleave.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "sources/source.h"

namespace ttla {

// At most this many redraws a second: enough to look alive, few enough to cost nothing on a slow
// terminal or an SSH session.
inline constexpr int kProgressRedrawHz = 4;
// 1234567 -> "1,234,567" (terminal output only; logs keep plain numbers).
std::string with_commas(uint64_t n);

// True when stderr is a terminal, TERM is not "dumb" and the user did not pass --no-progress.
bool progress_wanted(bool no_progress);

// What the line shows, derived from one Progress and the seconds since the target started.
struct ProgressEstimate {
  // Share done in [0, 1+]: items / ItemCount when the source knows the count (a full DynamoDB
  // scan; ItemCount is refreshed about every six hours, so the share may pass 1), else finished
  // segments / segments; absent when neither is known.
  std::optional<double> fraction;
  bool by_segments = false;
  double items_per_second = 0;
  double read_units_per_second = 0;
  // Remaining time at the average rate so far; absent until something is done, or past 100%.
  std::optional<double> eta_seconds;
};
ProgressEstimate estimate_progress(const Progress& p, double elapsed_seconds);

// "1h04m", "3m12s", "45s".
std::string format_eta(double seconds);

// Renders the line for one target (exposed for tests), e.g.
// "sessions: 12,345 items  37% of ~33,000  5.6k items/s  120 RCU/s  ETA 21s  (1,480 RCU)".
std::string format_progress_line(const std::string& target, const Progress& p,
                                 double elapsed_seconds);

class ProgressLine {
 public:
  // `out` is where the line goes (stderr; tests pass a file).
  explicit ProgressLine(bool enabled, std::FILE* out = stderr);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // Thread-safe; draws the first update of a target at once, then at most kProgressRedrawHz
  // times a second (updates in between are dropped: the next one carries newer counts).
  void update(const std::string& target, const Progress& p);
  // Wipes the line (end of a target, end of the run).
  void finish();
  // Callback for RunContext::progress; empty function when disabled.
  std::function<void(const std::string&, const Progress&)> callback();

 private:
  bool enabled_;
  std::FILE* out_;
  std::mutex mutex_;
  std::string target_;
  std::chrono::steady_clock::time_point target_started_;
  std::chrono::steady_clock::time_point last_draw_;
};

// Called by the log sink before it writes: wipes a drawn progress line (no-op otherwise).
void progress_clear_line_for_log();

}  // namespace ttla
