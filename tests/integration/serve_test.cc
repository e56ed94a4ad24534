// `serve` on a real loopback listener (127.0.0.1:0), scraped with libcurl. Needs no external
// server, so it never skips.
#include "app/serve.h"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/require.h"
#include "support/serve_runner.h"
#include "unit/sinks/sinks_test_report.h"

namespace ttla {
namespace {

using testing::http_get;
using testing::ServeRunner;
using testing::wait_for;

TEST(Serve, ServesMetricsHealthAndReportThenStops) {
  std::atomic<int> audits{0};
  ServeOptions o;
  o.interval_seconds = 3600;
  o.handle_signals = false;
  o.audit_once = [&](const std::atomic<bool>&) {
    ++audits;
    return testing::crafted_report();
  };
  ServeRunner serve(o);
  ASSERT_TRUE(wait_for([&] { return http_get(serve.port(), "/healthz").status == 200; }));

  auto metrics = http_get(serve.port(), "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find(R"(ttl_auditor_target_success{kind="dynamodb",target="sessions"} 1)"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(R"(ttl_auditor_target_success{kind="dynamodb",target="broken"} 0)"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("ttl_auditor_overdue_seconds_bucket"), std::string::npos);
  if (::access("/usr/bin/promtool", X_OK) == 0) {
    // What a scrape returns lints clean, exactly like the textfile.
    std::string file = "/tmp/ttla-serve-scrape-" + std::to_string(::getpid()) + ".prom";
    { std::ofstream(file) << metrics.body; }
    int rc = std::system(("/usr/bin/promtool check metrics < " + file + " >/dev/null 2>&1").c_str());
    std::remove(file.c_str());
    EXPECT_EQ(rc, 0) << "promtool check metrics failed on /metrics";
  }

  auto health = http_get(serve.port(), "/healthz");
  EXPECT_EQ(health.content_type, "application/json");
  auto hj = nlohmann::json::parse(health.body);
  EXPECT_EQ(hj["status"], "ok");
  EXPECT_EQ(hj["audits"], 1);
  EXPECT_EQ(hj["last_run"]["id"], "0123abcd-4567-89ef-0000-000000000000");
  EXPECT_GT(hj["next_audit_in_seconds"].get<double>(), 3000);

  auto report = http_get(serve.port(), "/report.json");
  EXPECT_EQ(report.status, 200);
  auto rj = nlohmann::json::parse(report.body);
  EXPECT_EQ(rj["schema_version"], 1);
  EXPECT_EQ(rj["targets"].size(), 4u);

  EXPECT_EQ(http_get(serve.port(), "/nope").status, 404);

  auto [rc, seconds] = serve.stop();
  EXPECT_EQ(rc, 0);
  // The listener closes at once; anything near the audit interval would mean the loop ignored
  // the stop.
  EXPECT_LT(seconds, 1.0);
  EXPECT_EQ(audits.load(), 1) << "interval of an hour: one audit only";
  EXPECT_EQ(http_get(serve.port(), "/healthz").status, 0) << "listener closed after stop";
}

TEST(Serve, UnhealthyUntilTheFirstAuditFinishes) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  ServeOptions o;
  o.handle_signals = false;
  o.audit_once = [&](const std::atomic<bool>&) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
    return testing::crafted_report();
  };
  ServeRunner serve(o);
  auto h = http_get(serve.port(), "/healthz");
  EXPECT_EQ(h.status, 503);
  EXPECT_EQ(nlohmann::json::parse(h.body)["status"], "starting");
  EXPECT_EQ(http_get(serve.port(), "/report.json").status, 503);
  auto m = http_get(serve.port(), "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.body.find("ttl_auditor_target_success"), std::string::npos);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  EXPECT_TRUE(wait_for([&] { return http_get(serve.port(), "/healthz").status == 200; }));
}

TEST(Serve, AuditsRepeatOneAtATimeAndKeepLastSuccessAcrossFailures) {
  std::atomic<int> calls{0}, running{0}, max_running{0};
  ServeOptions o;
  o.interval_seconds = 0.2;
  o.jitter = 0.1;
  o.handle_signals = false;
  o.audit_once = [&](const std::atomic<bool>&) -> Report {
    int now = ++running;
    max_running = std::max(max_running.load(), now);
    int n = ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    --running;
    auto r = testing::crafted_report();
    r.run.finished_at += n;  // distinguishable per audit
    if (n == 2) throw std::runtime_error("state dir unwritable");
    if (n >= 3) {
      r.targets[0].status = Status::kFailed;
      r.targets[0].anomalies = {{"target_failed", "critical", "x", 0, 0}};
    }
    return r;
  };
  ServeRunner serve(o);
  ASSERT_TRUE(wait_for([&] { return calls.load() >= 4; }, 10));
  auto metrics = http_get(serve.port(), "/metrics");
  // Audit 1 succeeded for sessions at finished_at + 1; later audits failed it, so the
  // timestamp stays while uploads keeps advancing.
  EXPECT_NE(metrics.body.find(
                R"(ttl_auditor_last_success_timestamp_seconds{kind="dynamodb",target="sessions"} 1795000101)"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(R"(ttl_auditor_target_success{kind="dynamodb",target="sessions"} 0)"),
            std::string::npos);
  auto hj = nlohmann::json::parse(http_get(serve.port(), "/healthz").body);
  EXPECT_EQ(hj["failed_audits"], 1);
  auto [rc, seconds] = serve.stop();
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(max_running.load(), 1);
  (void)seconds;
}

TEST(Serve, SigtermStopsTheLoop) {
  ServeOptions o;
  o.handle_signals = true;
  o.audit_once = [](const std::atomic<bool>&) { return testing::crafted_report(); };
  ServeRunner serve(o);
  ASSERT_TRUE(wait_for([&] { return http_get(serve.port(), "/healthz").status == 200; }));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  ASSERT_EQ(serve.result().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(serve.result().get(), 0);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
  // The handler is restored: SIGTERM's disposition is back to default.
  struct sigaction now {};
  sigaction(SIGTERM, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
}

TEST(Serve, BadListenAddressAndMissingAuditReturn2) {
  ServeOptions o;
  o.handle_signals = false;
  EXPECT_EQ(run_serve(Config{}, o), 2) << "no audit function";
  o.audit_once = [](const std::atomic<bool>&) { return testing::crafted_report(); };
  // A port another socket already listens on.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  o.listen = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  EXPECT_EQ(run_serve(Config{}, o), 2);
  ::close(fd);
}

TEST(Serve, LandingPageLinksTheEndpoints) {
  ServeOptions o;
  o.handle_signals = false;
  o.audit_once = [](const std::atomic<bool>&) { return testing::crafted_report(); };
  ServeRunner serve(o);
  auto page = http_get(serve.port(), "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  for (const char* link : {"href=\"metrics\"", "href=\"healthz\"", "href=\"report.json\""}) {
    EXPECT_NE(page.body.find(link), std::string::npos) << link << " in " << page.body;
  }
}

TEST(Serve, MetricsHoldNoInternalNaNSeriesAndLintClean) {
  if (::access("/usr/bin/promtool", X_OK) != 0) TTLA_SKIP_OR_FAIL("promtool missing (prometheus)");
  ServeOptions o;
  o.handle_signals = false;
  o.audit_once = [](const std::atomic<bool>&) { return testing::crafted_report(); };
  ServeRunner serve(o);
  ASSERT_TRUE(wait_for([&] { return http_get(serve.port(), "/healthz").status == 200; }));
  // Scrape twice: a server's own request statistics would show up from the second on.
  http_get(serve.port(), "/metrics");
  auto metrics = http_get(serve.port(), "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
  for (const char* bad : {"NaN", "Nan", "nan", "exposer_"}) {
    EXPECT_EQ(metrics.body.find(bad), std::string::npos) << bad << " in:\n" << metrics.body;
  }
  std::istringstream lines(metrics.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_EQ(line.rfind("ttl_auditor_", 0), 0u) << "a series that is not the auditor's: " << line;
  }
  std::string file = "/tmp/ttla-serve-lint-" + std::to_string(::getpid()) + ".prom";
  { std::ofstream(file) << metrics.body; }
  std::string cmd = "/usr/bin/promtool check metrics < " + file + " 2>&1";
  std::string out;
  {
    std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), ::pclose);
    char buf[512];
    while (p && std::fgets(buf, sizeof buf, p.get())) out += buf;
    EXPECT_EQ(::pclose(p.release()), 0) << out;
  }
  EXPECT_EQ(out, "") << "promtool reports problems";
  std::remove(file.c_str());
}

TEST(Serve, RefusesOtherMethodsAndOversizedHeads) {
  ServeOptions o;
  o.handle_signals = false;
  o.audit_once = [](const std::atomic<bool>&) { return testing::crafted_report(); };
  ServeRunner serve(o);
  ASSERT_TRUE(wait_for([&] { return http_get(serve.port(), "/healthz").status == 200; }));
  auto raw = [&](const std::string& request) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(serve.port()));
    std::string reply;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
      char buf[1024];
      ssize_t n;
      while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) reply.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return reply.substr(0, reply.find("\r\n"));
  };
  EXPECT_EQ(raw("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"),
            "HTTP/1.1 405 Method Not Allowed");
  EXPECT_EQ(raw("GET /metrics HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"),
            "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_EQ(raw("NONSENSE\r\n\r\n"), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(raw("HEAD /healthz HTTP/1.0\r\n\r\n"), "HTTP/1.1 200 OK");
}

TEST(Serve, StopsAtOnceWhileAClientHoldsAConnectionOpen) {
  ServeOptions o;
  o.handle_signals = false;
  o.audit_once = [](const std::atomic<bool>&) { return testing::crafted_report(); };
  ServeRunner serve(o);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(serve.port()));
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::send(fd, "GET /met", 8, MSG_NOSIGNAL);  // and then nothing: a slow client
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto [rc, seconds] = serve.stop();
  EXPECT_EQ(rc, 0);
  EXPECT_LT(seconds, 1.0) << "a half-sent request must not hold the exporter up";
  ::close(fd);
}

}  // namespace
}  // namespace ttla
