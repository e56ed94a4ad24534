#include "app/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace ttla {
namespace {

// Set while a progress line is on stderr; the log sink wipes it before writing a line.
std::atomic<bool> g_line_drawn{false};

std::string human_rate(double per_second) {
  char buf[32];
  if (per_second >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.1fM", per_second / 1e6);
  } else if (per_second >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.1fk", per_second / 1e3);
  } else if (per_second >= 10) {
    std::snprintf(buf, sizeof buf, "%.0f", per_second);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f", per_second);
  }
  return buf;
}

// Below this the rates are noise (a first page right after the target started).
constexpr double kMinElapsedForRates = 0.2;

// Columns of the terminal on `out`, 0 when unknown. A line longer than the terminal wraps, and
// "\r" then redraws only its last row: the line is cut to fit instead.
int terminal_columns(std::FILE* out) {
  winsize ws{};
  if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0) return ws.ws_col;
  return 0;
}

}  // namespace

std::string with_commas(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  const size_t lead = digits.size() % 3;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (i - lead) % 3 == 0 && i >= lead) out += ',';
    out += digits[i];
  }
  return out;
}

bool progress_wanted(bool no_progress) {
  if (no_progress || !isatty(STDERR_FILENO)) return false;
  const char* term = std::getenv("TERM");
  return term == nullptr || std::strcmp(term, "dumb") != 0;
}

ProgressEstimate estimate_progress(const Progress& p, double elapsed_seconds) {
  ProgressEstimate e;
  if (p.items_expected && *p.items_expected > 0) {
    e.fraction = static_cast<double>(p.items_scanned) / static_cast<double>(*p.items_expected);
  } else if (p.segments_total > 0) {
    e.fraction = static_cast<double>(p.segments_done) / static_cast<double>(p.segments_total);
    e.by_segments = true;
  }
  if (elapsed_seconds >= kMinElapsedForRates) {
    e.items_per_second = static_cast<double>(p.items_scanned) / elapsed_seconds;
    e.read_units_per_second = p.consumed_read_units / elapsed_seconds;
    if (e.fraction && *e.fraction > 0 && *e.fraction < 1) {
      e.eta_seconds = elapsed_seconds * (1 - *e.fraction) / *e.fraction;
    }
  }
  return e;
}

std::string format_eta(double seconds) {
  const int64_t s = std::max<int64_t>(0, std::llround(seconds));
  char buf[48];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  }
  return buf;
}

std::string format_progress_line(const std::string& target, const Progress& p,
                                 double elapsed_seconds) {
  const ProgressEstimate e = estimate_progress(p, elapsed_seconds);
  std::string line = target + ": " + with_commas(p.items_scanned) + " items";
  char buf[96];
  if (e.fraction && !e.by_segments) {
    std::snprintf(buf, sizeof buf, "  %.0f%% of ~%s", 100.0 * *e.fraction,
                  with_commas(static_cast<uint64_t>(*p.items_expected)).c_str());
    line += buf;
  } else if (e.fraction) {
    std::snprintf(buf, sizeof buf, "  %.0f%% (%llu/%llu segments)", 100.0 * *e.fraction,
                  static_cast<unsigned long long>(p.segments_done),
                  static_cast<unsigned long long>(p.segments_total));
    line += buf;
  }
  if (elapsed_seconds >= kMinElapsedForRates) {
    line += "  " + human_rate(e.items_per_second) + " items/s";
    if (p.consumed_read_units > 0) line += "  " + human_rate(e.read_units_per_second) + " RCU/s";
  }
  if (e.eta_seconds) {
    line += "  ETA " + format_eta(*e.eta_seconds);
  } else if (e.fraction && *e.fraction < 1) {
    line += "  ETA --";
  }
  if (p.consumed_read_units > 0) {
    std::snprintf(buf, sizeof buf, "  (%.1f RCU)", p.consumed_read_units);
    line += buf;
  }
  return line;
}

// Targets run one after another and finish() follows each, so "now" at construction and at
// finish() is when the next target starts; the rates count from there.
ProgressLine::ProgressLine(bool enabled, std::FILE* out)
    : enabled_(enabled), out_(out), target_started_(std::chrono::steady_clock::now()) {}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::update(const std::string& target, const Progress& p) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  const bool first = target != target_;
  if (first) target_ = target;
  if (!first && now - last_draw_ < std::chrono::milliseconds(1000 / kProgressRedrawHz)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - target_started_).count();
  std::string line = format_progress_line(target, p, elapsed);
  const int columns = terminal_columns(out_);
  if (columns > 1 && line.size() >= static_cast<size_t>(columns)) line.resize(columns - 1);
  std::fprintf(out_, "\r\033[K%s", line.c_str());
  std::fflush(out_);
  if (out_ == stderr) g_line_drawn = true;
}

void ProgressLine::finish() {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  const bool drawn = !target_.empty();
  target_.clear();
  target_started_ = std::chrono::steady_clock::now();
  if (out_ == stderr) g_line_drawn = false;
  if (drawn) {
    std::fputs("\r\033[K", out_);
    std::fflush(out_);
  }
}

std::function<void(const std::string&, const Progress&)> ProgressLine::callback() {
  if (!enabled_) return {};
  return [this](const std::string& target, const Progress& p) { update(target, p); };
}

void progress_clear_line_for_log() {
  if (g_line_drawn.exchange(false)) std::fputs("\r\033[K", stderr);
}

}  // namespace ttla
