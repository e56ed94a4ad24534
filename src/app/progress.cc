#include "app/progress.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ttla {
namespace {

// Set while a progress line is on screen; the log sink wipes it before writing a line.
std::atomic<bool> g_line_drawn{false};

std::string human_rate(double per_second) {
  char buf[32];
  if (per_second >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.1fM", per_second / 1e6);
  } else if (per_second >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.1fk", per_second / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f", per_second);
  }
  return buf;
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

std::string format_progress_line(const std::string& target, const Progress& p,
                                 double elapsed_seconds) {
  std::string line = target + ": " + with_commas(p.items_scanned) + " items";
  if (elapsed_seconds > 0.05) {
    line += "  " + human_rate(static_cast<double>(p.items_scanned) / elapsed_seconds) + "/s";
  }
  if (p.items_expected && *p.items_expected > 0) {
    // ItemCount is refreshed by DynamoDB about every six hours, so the share is approximate
    // and may pass 100%.
    const double pct = 100.0 * static_cast<double>(p.items_scanned) /
                       static_cast<double>(*p.items_expected);
    char buf[64];
    std::snprintf(buf, sizeof buf, "  %.0f%% of ~%s", pct,
                  with_commas(static_cast<uint64_t>(*p.items_expected)).c_str());
    line += buf;
  }
  if (p.consumed_read_units > 0) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "  %.1f RCU", p.consumed_read_units);
    line += buf;
  }
  return line;
}

// Targets run one after another and finish() follows each, so "now" at construction and at
// finish() is when the next target starts; the rate counts from there.
ProgressLine::ProgressLine(bool enabled)
    : enabled_(enabled), target_started_(std::chrono::steady_clock::now()) {}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::update(const std::string& target, const Progress& p) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (target != target_) {
    target_ = target;
    last_draw_ = {};
  }
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - target_started_).count();
  std::string line = format_progress_line(target, p, elapsed);
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  g_line_drawn = true;
}

void ProgressLine::finish() {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  target_.clear();
  target_started_ = std::chrono::steady_clock::now();
  if (g_line_drawn.exchange(false)) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
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
