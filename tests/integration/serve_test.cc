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
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "unit/sinks/sinks_test_report.h"

namespace ttla {
namespace {

struct HttpResult {
  long status = 0;
  std::string body;
  std::string content_type;
};

size_t append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

HttpResult http_get(int port, const std::string& path) {
  HttpResult r;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 5000L);
  if (curl_easy_perform(curl.get()) != CURLE_OK) return r;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &r.status);
  char* ct = nullptr;
  curl_easy_getinfo(curl.get(), CURLINFO_CONTENT_TYPE, &ct);
  if (ct) r.content_type = ct;
  return r;
}

// Runs run_serve on a thread and hands out the bound port.
class ServeRunner {
 public:
  explicit ServeRunner(ServeOptions options) {
    std::promise<int> port;
    auto port_future = port.get_future();
    options.listen = "127.0.0.1:0";
    options.on_listening = [&port](int p) { port.set_value(p); };
    result_ = std::async(std::launch::async, [options] { return run_serve(Config{}, options); });
    if (port_future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      throw std::runtime_error("serve did not start listening");
    }
    port_ = port_future.get();
  }
  ~ServeRunner() {
    if (result_.valid()) {
      request_serve_stop();
      result_.wait();
    }
  }
  int port() const { return port_; }
  // Stops and returns run_serve's exit code and how long stopping took.
  std::pair<int, double> stop() {
    auto t0 = std::chrono::steady_clock::now();
    request_serve_stop();
    int rc = result_.get();
    return {rc, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
  }
  std::future<int>& result() { return result_; }

 private:
  std::future<int> result_;
  int port_ = 0;
};

bool wait_for(const std::function<bool()>& cond, double seconds = 10) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

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
  // civetweb's listener polls in 2 s quanta (SOCKET_TIMEOUT_QUANTUM), so closing the listener
  // takes up to ~2 s; anything near the audit interval would mean the loop ignored the stop.
  EXPECT_LT(seconds, 5.0);
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

}  // namespace
}  // namespace ttla
