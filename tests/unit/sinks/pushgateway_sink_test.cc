// The Pushgateway sink against a recording loopback server: which groups, which methods, which
// series. The live behaviour (last_success surviving a failed run) is in
// tests/integration/pushgateway_test.cc against a real prometheus-pushgateway.
#include "sinks/pushgateway_sink.h"

#include <gtest/gtest.h>

#include <map>

#include "core/error.h"
#include "sinks/sinks.h"
#include "sinks_test_report.h"
#include "support/test_http_server.h"

namespace ttla {
namespace {

using ttla::testing::CannedResponse;
using ttla::testing::ReceivedRequest;
using ttla::testing::TestHttpServer;

TEST(PushgatewayUrl, Parses) {
  auto a = parse_pushgateway_url("http://127.0.0.1:9091");
  EXPECT_EQ(a.host, "http://127.0.0.1");
  EXPECT_EQ(a.port, "9091");
  auto b = parse_pushgateway_url("https://pg.example.com/prefix/");
  EXPECT_EQ(b.host, "https://pg.example.com");
  EXPECT_EQ(b.port, "443/prefix");
  auto c = parse_pushgateway_url("localhost:9091");
  EXPECT_EQ(c.host, "http://localhost");
  EXPECT_EQ(c.port, "9091");
  EXPECT_THROW(parse_pushgateway_url("ftp://x:1"), Error);
  EXPECT_THROW(parse_pushgateway_url("http://x:port"), Error);
}

TEST(PushgatewaySink, OneGroupPerTargetPutForSuccessPostForFailure) {
  TestHttpServer server([](const ReceivedRequest&) { return CannedResponse{200, {}, ""}; });
  auto report = testing::crafted_report();
  auto errors = push_to_gateway(report, server.url(""));
  ASSERT_TRUE(errors.empty()) << errors.front();

  std::map<std::string, ReceivedRequest> by_path;
  for (const auto& r : server.requests()) by_path[r.target] = r;
  ASSERT_EQ(by_path.size(), 5u) << "run group + 4 target groups";

  const auto& run = by_path.at("/metrics/job/ttl_auditor");
  EXPECT_EQ(run.method, "PUT");
  EXPECT_NE(run.body.find("ttl_auditor_last_run_timestamp_seconds 1795000100"), std::string::npos);
  EXPECT_EQ(run.body.find("target=\""), std::string::npos) << "run group has no target series";

  const auto& ok = by_path.at("/metrics/job/ttl_auditor/target/sessions");
  EXPECT_EQ(ok.method, "PUT");
  EXPECT_NE(ok.body.find(
                R"(ttl_auditor_last_success_timestamp_seconds{kind="dynamodb",target="sessions"} 1795000100)"),
            std::string::npos)
      << ok.body;
  EXPECT_EQ(ok.body.find("target=\"uploads\""), std::string::npos) << "only its own target";
  EXPECT_EQ(ok.body.find("ttl_auditor_run_duration_seconds"), std::string::npos);

  const auto& failed = by_path.at("/metrics/job/ttl_auditor/target/broken");
  EXPECT_EQ(failed.method, "POST");
  EXPECT_NE(failed.body.find(R"(ttl_auditor_target_success{kind="dynamodb",target="broken"} 0)"),
            std::string::npos)
      << failed.body;
  EXPECT_EQ(failed.body.find("ttl_auditor_last_success_timestamp_seconds"), std::string::npos)
      << "a failed push must not carry (and so not replace) last_success";
  EXPECT_EQ(by_path.at("/metrics/job/ttl_auditor/target/uploads").method, "PUT");
}

TEST(PushgatewaySink, HttpErrorAndUnreachableAreReported) {
  TestHttpServer server([](const ReceivedRequest&) {
    return CannedResponse{400, {}, "pushed metrics are invalid"};
  });
  auto errors = push_to_gateway(testing::crafted_report(), server.url(""));
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors[0].find("HTTP 400"), std::string::npos) << errors[0];

  int dead_port;
  {
    TestHttpServer gone([](const ReceivedRequest&) { return CannedResponse{}; });
    dead_port = gone.port();
  }
  SinkOptions o;
  o.pushgateway_url = "http://127.0.0.1:" + std::to_string(dead_port);
  auto sink_errors = publish(testing::crafted_report(), o);
  ASSERT_FALSE(sink_errors.empty());
  EXPECT_NE(sink_errors[0].find("transport error"), std::string::npos) << sink_errors[0];
}

}  // namespace
}  // namespace ttla
