// `run --html`: the page of a real run (a DynamoDB table in dynalite and a filesystem target whose
// file name is markup) rendered by headless Chromium (Debian's `chromium`). The page must load
// without a single console message (its CSP turns any fetch into one, and so does an invalid SVG
// attribute), every number the rendered DOM shows must equal the JSON report of the same run, the
// file name must come out as text, the trend must hold both recorded runs, and a page that cannot
// be written must make the run exit 3 without costing the JSON report.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/html_values.h"
#include "support/require.h"
#include "support/spawn.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ttla::testing::read_file;
using ttla::testing::spawn_and_wait;
using ttla::testing::SpawnResult;

constexpr int64_t kAsOf = 1'790'000'000;
const std::string kEvilName = "<img src=x onerror=alert(1)>&\"q'.tmp";

std::string chromium() {
  const char* c = std::getenv("TTLA_CHROMIUM");
  return c ? c : "/usr/bin/chromium";
}

class HtmlPageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* e = std::getenv("TTLA_DYNALITE_ENDPOINT");
    if (!e) TTLA_SKIP_OR_FAIL("TTLA_DYNALITE_ENDPOINT not set: scripts/servers/dynalite.sh");
    if (access(chromium().c_str(), X_OK) != 0) {
      TTLA_SKIP_OR_FAIL(chromium() + " not found: scripts/install-deps.sh installs chromium");
    }
    endpoint_ = e;
    char tmpl[] = "/tmp/ttla-html-it-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    SpawnResult gen = ttla::testing::load_dynamo_table(endpoint_, "ttla_html_it", 3000, 21, kAsOf, dir_);
    ASSERT_EQ(gen.exit_code, 0) << gen.describe();
    // Files 2, 9 and 12 days old against a 7-day retention, one of them named like markup.
    fs::create_directories(dir_ / "files");
    const std::pair<std::string, int> files[] = {{"a.tmp", 2}, {"b.tmp", 9}, {kEvilName, 12}};
    for (const auto& [name, days] : files) {
      const fs::path p = dir_ / "files" / name;
      std::ofstream(p) << "x";
      const struct timespec times[2] = {{kAsOf - days * 86400, 0}, {kAsOf - days * 86400, 0}};
      ASSERT_EQ(utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
    }
    std::ofstream(dir_ / "c.yaml") << "defaults: {region: us-east-1}\ntargets:\n"
                                      "  - name: sessions\n    kind: dynamodb\n"
                                      "    table: ttla_html_it\n    endpoint_url: " << endpoint_
                                   << "\n    ttl_attribute: ttl\n    segments: 4\n"
                                      "    group_by: {attribute: pk, split: \"#\", part: 0}\n"
                                      "  - name: images\n    kind: filesystem\n    path: "
                                   << (dir_ / "files").string() << "\n    retention: 7d\n";
  }
  void TearDown() override {
    if (!dir_.empty() && !std::getenv("TTLA_KEEP_TEST_DIR")) fs::remove_all(dir_);
  }

  SpawnResult audit(const std::string& tag, int64_t as_of, const std::string& html) {
    return spawn_and_wait({TTLA_BINARY, "run", "--config", (dir_ / "c.yaml").string(), "--as-of",
                           std::to_string(as_of), "--report", (dir_ / (tag + ".json")).string(),
                           "--html", html, "--state-dir", (dir_ / "state").string(),
                           "--record-history", "--fail-on", "never", "--no-progress"},
                          dir_ / (tag + ".out"), dir_ / (tag + ".err"));
  }

  // The DOM Chromium builds from the page, and its log (console messages included).
  std::pair<std::string, std::string> render(const fs::path& page) {
    SpawnResult r = spawn_and_wait(
        {"/usr/bin/timeout", "120", chromium(), "--headless", "--disable-gpu", "--no-sandbox",
         "--no-first-run", "--user-data-dir=" + (dir_ / "profile").string(),
         "--enable-logging=stderr", "--v=0", "--dump-dom", "file://" + page.string()},
        dir_ / "dom.html", dir_ / "chromium.log");
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    return {r.out, r.err};
  }

  std::string endpoint_;
  fs::path dir_;
};

const json& target_json(const json& report, const std::string& name) {
  for (const json& t : report["targets"]) {
    if (t["name"] == name) return t;
  }
  throw std::runtime_error("no target " + name);
}

TEST_F(HtmlPageTest, PageRendersCleanlyAndShowsTheJsonReportsNumbers) {
  SpawnResult first = audit("r1", kAsOf, (dir_ / "r1.html").string());
  ASSERT_EQ(first.exit_code, 0) << first.describe();
  SpawnResult second = audit("r2", kAsOf + 3600, (dir_ / "r2.html").string());
  ASSERT_EQ(second.exit_code, 0) << second.describe();
  const json r1 = json::parse(read_file(dir_ / "r1.json"));
  const json r2 = json::parse(read_file(dir_ / "r2.json"));

  auto [dom, log] = render(dir_ / "r2.html");
  // No console message at all: the page has no script, so any is a blocked load or bad markup.
  std::string console;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(":CONSOLE") != std::string::npos) console += line + "\n";
  }
  EXPECT_EQ(console, "") << "console messages while loading the page";

  const auto cards = ttla::testing::html_cards(dom);
  ASSERT_EQ(cards.size(), 2u) << dom.substr(0, 2000);
  auto seen = ttla::testing::expect_cards_match_report(cards, r2);
  const std::set<std::string>& shown = seen["sessions"];
  for (const char* ptr :
       {"/expired/count", "/expired/overdue_seconds_quantiles/p50",
        "/expired/overdue_seconds_quantiles/p99", "/expired/histogram/0/count",
        "/expired/histogram/11/count", "/hygiene/missing_ttl", "/hygiene/not_yet_expired",
        "/expired/top_groups/0/count", "/anomalies/0/value", "/backlog_trend/rate_items_per_hour"}) {
    EXPECT_TRUE(shown.count(ptr)) << "sessions card lacks " << ptr;
  }
  EXPECT_GT(shown.size() + seen["images"].size(), 40u);
  EXPECT_GT(target_json(r2, "sessions")["expired"]["count"].get<int64_t>(), 0);

  // The markup-like file name is text, not an element.
  EXPECT_EQ(dom.find("<img"), std::string::npos);
  EXPECT_NE(cards.at("images").html.find("&lt;img src=x onerror=alert(1)&gt;&amp;"),
            std::string::npos)
      << cards.at("images").html.substr(0, 3000);

  // Both recorded runs are on the trend, with the counts their reports gave.
  const auto& trend = cards.at("sessions").trend;
  ASSERT_EQ(trend.size(), 2u);
  EXPECT_DOUBLE_EQ(trend[0].second, target_json(r1, "sessions")["expired"]["count"].get<double>());
  EXPECT_DOUBLE_EQ(trend[1].second, target_json(r2, "sessions")["expired"]["count"].get<double>());
  // Every anomaly is listed with its runbook link.
  for (const json& a : target_json(r2, "sessions")["anomalies"]) {
    EXPECT_NE(cards.at("sessions").html.find("data-rule=\"" + a["rule"].get<std::string>() + "\""),
              std::string::npos)
        << a.dump();
  }
  EXPECT_NE(dom.find("README.md#ttlauditorttldisabled"), std::string::npos);
}

TEST_F(HtmlPageTest, UnwritablePageFailsTheRunButKeepsTheJsonReport) {
  SpawnResult r = audit("bad", kAsOf, (dir_ / "no-such-dir" / "r.html").string());
  EXPECT_EQ(r.exit_code, 3) << r.describe();
  EXPECT_NE(r.err.find("html"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(dir_ / "bad.json"));
  EXPECT_FALSE(fs::exists(dir_ / "no-such-dir"));
}

}  // namespace
