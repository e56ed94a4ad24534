// request_timeout, connect_timeout and max_duration: parsed per kind, defaults left unset (the
// sources then use kDefaultRequestTimeout / kDefaultConnectTimeout), bad values named by path.
#include <gtest/gtest.h>

#include <string>

#include "config/config.h"
#include "sources/kinds.h"

namespace {

std::string errors(const std::string& yaml) {
  std::string out;
  for (const auto& e : ttla::parse_config(yaml).errors) out += e.str() + "\n";
  return out;
}

TEST(TimeLimitsConfig, ParsedPerTargetAndFromDefaults) {
  auto r = ttla::parse_config(
      "defaults: {request_timeout: 5s}\n"
      "targets:\n"
      "  - {name: a, kind: dynamodb, table: T, connect_timeout: 2s, max_duration: 15m}\n"
      "  - {name: b, kind: s3, bucket: bkt, retention: 7d, request_timeout: 1m}\n"
      "  - {name: c, kind: filesystem, path: /tmp, retention: 1d, max_duration: 90s}\n"
      "  - {name: d, kind: postgres, dsn: x, table: t, timestamp_column: c, retention: 1d,\n"
      "     connect_timeout: 4s}\n");
  ASSERT_TRUE(r.config) << r.errors.at(0).str();
  const auto& t = r.config->targets;
  EXPECT_EQ(t[0].request_timeout, 5);
  EXPECT_EQ(t[0].connect_timeout, 2);
  EXPECT_EQ(t[0].max_duration, 900);
  EXPECT_EQ(t[1].request_timeout, 60);
  EXPECT_FALSE(t[1].connect_timeout.has_value());
  EXPECT_EQ(t[1].max_duration, 0);
  EXPECT_EQ(t[2].max_duration, 90);
  EXPECT_EQ(t[3].connect_timeout, 4);
  EXPECT_EQ(ttla::kDefaultRequestTimeout, 30);
  EXPECT_EQ(ttla::kDefaultConnectTimeout, 3);
}

TEST(TimeLimitsConfig, BadValuesAndWrongKindsAreNamed) {
  const std::string e = errors(
      "targets:\n"
      "  - {name: a, kind: dynamodb, table: T, request_timeout: soon}\n"
      "  - {name: b, kind: dynamodb, table: T, max_duration: 0s}\n"
      "  - {name: c, kind: filesystem, path: /tmp, retention: 1d, request_timeout: 5s}\n");
  EXPECT_NE(e.find("targets[0].request_timeout: expected a duration"), std::string::npos) << e;
  EXPECT_NE(e.find("targets[1].max_duration: expected a positive duration like 30s, got 0s"),
            std::string::npos) << e;
  EXPECT_NE(e.find("targets[2].request_timeout: key not allowed for kind filesystem"), std::string::npos) << e;
}

}  // namespace
