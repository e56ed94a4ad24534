// The terminal progress line: what it shows (share of ItemCount or of segments, rates, ETA) and
// how often it redraws. The line under a real pseudo-terminal is tested end to end in
// tests/integration/progress_tty_test.cc.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "app/progress.h"

namespace ttla {
namespace {

TEST(Progress, ShareOfItemCountWithRatesEtaAndUnits) {
  Progress p;
  p.items_scanned = 1234567;
  p.items_expected = 3300000;
  p.consumed_read_units = 15;
  p.segments_total = 8;
  p.segments_done = 1;  // ignored: the item count is the finer measure
  // 37.4% in 10 s: the remaining 62.6% take 16.7 s at the same pace.
  EXPECT_EQ(format_progress_line("sessions", p, 10.0),
            "sessions: 1,234,567 items  37% of ~3,300,000  123.5k items/s  1.5 RCU/s  ETA 17s  "
            "(15.0 RCU)");
}

TEST(Progress, ShareOfSegmentsWhenTheCountIsUnknown) {
  Progress p;
  p.items_scanned = 4033;
  p.consumed_read_units = 136;
  p.segments_total = 8;
  p.segments_done = 2;
  const ProgressEstimate e = estimate_progress(p, 20.0);
  ASSERT_TRUE(e.fraction);
  EXPECT_TRUE(e.by_segments);
  EXPECT_DOUBLE_EQ(*e.fraction, 0.25);
  ASSERT_TRUE(e.eta_seconds);
  EXPECT_DOUBLE_EQ(*e.eta_seconds, 60.0);
  EXPECT_EQ(format_progress_line("prog", p, 20.0),
            "prog: 4,033 items  25% (2/8 segments)  202 items/s  6.8 RCU/s  ETA 1m00s  (136.0 RCU)");
  // Nothing finished yet: the share is known (0%) but no ETA can be given.
  p.segments_done = 0;
  EXPECT_EQ(format_progress_line("prog", p, 20.0),
            "prog: 4,033 items  0% (0/8 segments)  202 items/s  6.8 RCU/s  ETA --  (136.0 RCU)");
}

TEST(Progress, NoShareNoRatesTooEarlyAndNoEtaPastTheCount) {
  Progress q;
  q.items_scanned = 999;
  EXPECT_EQ(format_progress_line("t", q, 0.0), "t: 999 items");
  EXPECT_EQ(format_progress_line("t", q, 2.0), "t: 999 items  500 items/s");
  // ItemCount lags (refreshed about every six hours): past 100% there is no ETA.
  q.items_expected = 900;
  EXPECT_EQ(format_progress_line("t", q, 2.0), "t: 999 items  111% of ~900  500 items/s");
}

TEST(Progress, EtaFormats) {
  EXPECT_EQ(format_eta(0.4), "0s");
  EXPECT_EQ(format_eta(45), "45s");
  EXPECT_EQ(format_eta(192), "3m12s");
  EXPECT_EQ(format_eta(3840), "1h04m");
}

size_t count_redraws(const std::string& s) {
  size_t n = 0;
  for (size_t at = s.find("\r\033[K"); at != std::string::npos; at = s.find("\r\033[K", at + 1)) {
    if (at + 4 < s.size() && s[at + 4] != '\r') ++n;  // a redraw, not the final wipe
  }
  return n;
}

std::string read_all(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
  return s;
}

TEST(Progress, RedrawsAtMostFourTimesASecond) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  {
    ProgressLine line(true, f);
    Progress p;
    // A fast source calls back every millisecond for 1.1 s.
    while (elapsed < 1.1) {
      p.items_scanned += 100;
      line.update("sessions", p);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    line.finish();
  }
  const std::string out = read_all(f);
  std::fclose(f);
  const size_t draws = count_redraws(out);
  // First draw at once, then one per 250 ms: 5 in 1.1 s (never more than elapsed * 4 + 1).
  EXPECT_LE(draws, static_cast<size_t>(elapsed * kProgressRedrawHz) + 1) << out;
  EXPECT_GE(draws, 3u) << out;
  // The run ends with the line wiped, so the next output starts on a clean line.
  EXPECT_EQ(out.substr(out.size() - 4), "\r\033[K");
}

TEST(Progress, DisabledLineWritesNothingAndHasNoCallback) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressLine line(false, f);
    EXPECT_FALSE(line.callback());
    Progress p;
    p.items_scanned = 5;
    line.update("sessions", p);
    line.finish();
  }
  EXPECT_EQ(read_all(f), "");
  std::fclose(f);
}

}  // namespace
}  // namespace ttla
