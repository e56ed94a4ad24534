// The HTML report page (sinks/html_report.h): every number it shows equals the JSON report's,
// strings from the data are escaped, it loads nothing, anomalies link their runbook, and the trend
// draws the history it is given. Rendering in a real browser: tests/integration/html_page_test.cc.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "sinks/html_report.h"
#include "sinks_test_report.h"
#include "support/html_values.h"

namespace ttla {
namespace {

using nlohmann::json;

Report report_with_deletion() {
  Report r = testing::crafted_report();
  r.targets[0].stats.add_expired("pk=user9#s1", 1794999000, 1000, 200, "user9");
  r.targets[0].extra["deletion"] = {{"source", "cloudwatch"},
                                    {"window_seconds", 86400},
                                    {"deleted_in_window", 4800.0},
                                    {"rate_per_hour", 200.0},
                                    {"drain_eta_seconds", 54.0},
                                    {"latency_source", "snapshots"},
                                    {"latency_seconds_quantiles",
                                     {{"p50", 3600.0}, {"p90", 7200.0}, {"p99", 10800.0}}}};
  return r;
}

TEST(HtmlReport, EveryNumberShownEqualsTheJsonReport) {
  const Report report = report_with_deletion();
  const json doc = report_to_json(report);
  const auto cards = testing::html_cards(render_html_report(report, {}));
  ASSERT_EQ(cards.size(), report.targets.size());
  auto seen = testing::expect_cards_match_report(cards, doc);
  // What each card must show (a page that dropped them would pass the loop above).
  for (const char* ptr :
       {"/expired/count", "/expired/oldest_overdue_seconds", "/expired/newest_overdue_seconds",
        "/expired/overdue_seconds_quantiles/p50", "/expired/overdue_seconds_quantiles/p90",
        "/expired/overdue_seconds_quantiles/p99", "/expired/histogram/0/count",
        "/expired/histogram/11/count", "/hygiene/missing_ttl", "/hygiene/beyond_five_years",
        "/expired/top_groups/0/count", "/expired/oldest_items/0/overdue_seconds",
        "/anomalies/0/value", "/anomalies/0/threshold", "/deletion/rate_per_hour",
        "/deletion/drain_eta_seconds", "/deletion/latency_seconds_quantiles/p99",
        "/scan/items_scanned", "/table_metrics/item_count"}) {
    EXPECT_TRUE(seen["sessions"].count(ptr)) << "sessions lacks " << ptr;
  }
  for (const char* ptr : {"/expired/ci95/0", "/expired/ci95/1", "/hygiene_ci95/missing_ttl/0",
                          "/hygiene_ci95/missing_ttl/1"}) {
    EXPECT_TRUE(seen["sampled"].count(ptr)) << "sampled lacks " << ptr;
  }
  for (const char* ptr : {"/multipart/stale_count", "/noncurrent/expired_count",
                          "/backlog_trend/rate_items_per_hour",
                          "/backlog_trend/drain_estimate_seconds"}) {
    EXPECT_TRUE(seen["uploads"].count(ptr)) << "uploads lacks " << ptr;
  }
  // The estimate is the count shown, and its interval next to it.
  EXPECT_NE(cards.at("sampled").html.find("95% interval"), std::string::npos);
  EXPECT_EQ(cards.at("sessions").html.find("95% interval"), std::string::npos);
  EXPECT_NE(cards.at("broken").html.find("AccessDeniedException: not authorized"),
            std::string::npos);
}

TEST(HtmlReport, EscapesEveryStringFromTheData) {
  Report report = testing::crafted_report();
  const std::string evil = "<img src=x onerror=alert(1)>&\"q'";
  TargetReport& t = report.targets[0];
  t.stats.add_expired("pk=" + evil, 1794000000, 1000000, 10, evil);
  t.error = "failed: " + evil;
  t.status = Status::kPartial;
  t.anomalies.push_back({"target_partial", "warning", "stopped at " + evil, 0, 0});
  report.targets[3].name = "a<b>";
  const std::string page = render_html_report(report, {});
  EXPECT_EQ(page.find(evil), std::string::npos);
  EXPECT_EQ(page.find("<img"), std::string::npos);
  EXPECT_EQ(page.find("a<b>"), std::string::npos);
  const std::string escaped = "&lt;img src=x onerror=alert(1)&gt;&amp;&quot;q&#39;";
  EXPECT_NE(page.find("pk=" + escaped), std::string::npos);          // oldest item key
  EXPECT_NE(page.find(">" + escaped + "</td>"), std::string::npos);  // top group
  EXPECT_NE(page.find("failed: " + escaped), std::string::npos);     // target error
  EXPECT_NE(page.find("stopped at " + escaped), std::string::npos);  // anomaly message
  EXPECT_NE(page.find("data-target=\"a&lt;b&gt;\""), std::string::npos);
  // The cards still read back with the names as they are.
  EXPECT_EQ(testing::html_cards(page).count("a<b>"), 1u);
}

TEST(HtmlReport, LoadsNothingAndRunsNoScript) {
  const std::string page = render_html_report(report_with_deletion(), {});
  EXPECT_NE(page.find("Content-Security-Policy\" content=\"default-src 'none'"), std::string::npos);
  for (const char* banned : {"<script", "<link", "<img", "<iframe", " src=", "url(", "@import"}) {
    EXPECT_EQ(page.find(banned), std::string::npos) << banned;
  }
  // The only addresses are the runbook links (navigation on a click, not a fetch).
  const std::regex address(R"((https?://[^"'\s<]*))");
  for (std::sregex_iterator it(page.begin(), page.end(), address), end; it != end; ++it) {
    EXPECT_EQ((*it)[1].str().rfind("https://github.com/ttl-auditor/ttl-auditor/blob/main/README.md#", 0), 0u)
        << (*it)[1];
  }
}

TEST(HtmlReport, EveryAnomalyLinksARunbookHeadingThatExists) {
  std::ifstream in(std::string(TTLA_SOURCE_DIR) + "/README.md");
  std::stringstream readme;
  readme << in.rdbuf();
  std::set<std::string> anchors;
  const std::string text = readme.str();
  const std::regex heading(R"(\n#### (TTLAuditor[A-Za-z]+))");
  for (std::sregex_iterator it(text.begin(), text.end(), heading), end; it != end; ++it) {
    std::string a = (*it)[1];
    for (char& c : a) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    anchors.insert(a);
  }
  ASSERT_FALSE(anchors.empty());
  for (const char* rule : {"ttl_disabled", "table_not_active", "expired_backlog", "oldest_overdue",
                           "ttl_hygiene", "backlog_growth", "stale_multipart", "lifecycle_missing",
                           "target_failed", "target_partial", "ttl_stalled", "dlq_depth"}) {
    const std::string url = runbook_url(rule);
    const std::string anchor = url.substr(url.find('#') + 1);
    EXPECT_TRUE(anchors.count(anchor)) << rule << " -> " << url;
  }
  EXPECT_NE(runbook_url("oldest_overdue").find("#ttlauditoroldestoverduepastwindow"), std::string::npos);
  EXPECT_NE(runbook_url("dlq_depth").find("#ttlauditoranomaly"), std::string::npos);
  // Each anomaly of the page carries its rule's link.
  const Report report = testing::crafted_report();
  const auto cards = testing::html_cards(render_html_report(report, {}));
  for (const TargetReport& t : report.targets) {
    for (const Anomaly& a : t.anomalies) {
      EXPECT_NE(cards.at(t.name).html.find("data-rule=\"" + a.rule + "\""), std::string::npos);
      EXPECT_NE(cards.at(t.name).html.find("href=\"" + runbook_url(a.rule) + "\""), std::string::npos)
          << a.rule;
    }
  }
}

TEST(HtmlReport, TrendDrawsTheHistoryGiven) {
  const Report report = testing::crafted_report();
  TrendHistory history;
  history["sessions"] = {{1794990000, 10, "ok"}, {1794995000, 7, "partial"}, {1795000100, 3, "ok"}};
  const auto cards = testing::html_cards(render_html_report(report, history));
  const auto& trend = cards.at("sessions").trend;
  ASSERT_EQ(trend.size(), 3u);
  EXPECT_DOUBLE_EQ(trend[0].first, 1794990000);
  EXPECT_DOUBLE_EQ(trend[1].second, 7);
  EXPECT_DOUBLE_EQ(trend[2].second, 3);
  EXPECT_NE(cards.at("sessions").html.find("<polyline class=\"trend\""), std::string::npos);
  EXPECT_NE(cards.at("sessions").html.find("class=\"p-partial\""), std::string::npos);
  EXPECT_TRUE(cards.at("uploads").trend.empty());
  EXPECT_NE(cards.at("uploads").html.find("no history"), std::string::npos);
}

TEST(HtmlReport, WriteFailureNamesThePath) {
  const std::string path = "/nonexistent-dir-ttla/report.html";
  try {
    write_html_report(path, testing::crafted_report(), {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kIo);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  const auto dir = std::filesystem::temp_directory_path() / "ttla-html-unit";
  std::filesystem::create_directories(dir);
  write_html_report((dir / "r.html").string(), testing::crafted_report(), {});
  std::ifstream in(dir / "r.html");
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_EQ(s.str(), render_html_report(testing::crafted_report(), {}));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ttla
