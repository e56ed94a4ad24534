// Parsed values of valid configs: defaults merging, thresholds layering, interpolation, nested
// sections. (Error messages are covered by config_fixtures_test.)
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "config/config.h"
#include "sources/dynamodb_kind.h"
#include "sources/filesystem_kind.h"
#include "sources/kinds.h"
#include "sources/postgres_kind.h"
#include "sources/s3_kind.h"

namespace {

const std::string kFixtures = std::string(TTLA_SOURCE_DIR) + "/tests/fixtures/config/";

const ttla::TargetConfig* find(const ttla::Config& c, const std::string& name) {
  for (const auto& t : c.targets) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::vector<std::string> errors_of(const std::string& yaml) {
  std::vector<std::string> out;
  for (const auto& e : ttla::parse_config(yaml).errors) out.push_back(e.str());
  return out;
}

TEST(Config, FullFixtureValues) {
  setenv("TTLA_FIXTURE_TABLE", "UploadSessions", 1);
  unsetenv("TTLA_FIXTURE_PASSWORD");
  auto r = ttla::load_config(kFixtures + "full.ok.yaml");
  ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].str());
  const ttla::Config& c = *r.config;
  EXPECT_EQ(c.source_path, kFixtures + "full.ok.yaml");
  EXPECT_EQ(c.state_dir, "/var/lib/ttl-auditor");
  ASSERT_EQ(c.targets.size(), 4u);
  EXPECT_EQ(c.thresholds.expired_backlog_critical, 10000);
  EXPECT_EQ(c.thresholds.oldest_overdue_warning, 2 * 86400);
  EXPECT_EQ(c.thresholds.growth_runs, 4);
  EXPECT_DOUBLE_EQ(c.thresholds.growth_sigma, 2.5);
  EXPECT_EQ(c.thresholds.history_runs, 96);

  const auto* s = find(c, "sessions");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->kind, "dynamodb");
  EXPECT_EQ(ttla::dynamodb_config(*s).table, "UploadSessions");  // ${TTLA_FIXTURE_TABLE}
  EXPECT_EQ(s->region, "us-east-1");      // from defaults
  EXPECT_EQ(s->top_k, 5);                 // from defaults
  EXPECT_EQ(s->endpoint_url, "http://127.0.0.1:8000");
  EXPECT_EQ(ttla::dynamodb_config(*s).ttl_attribute, "expires_at");
  ASSERT_TRUE(ttla::dynamodb_config(*s).sample);
  EXPECT_DOUBLE_EQ(*ttla::dynamodb_config(*s).sample, 0.05);
  EXPECT_EQ(ttla::dynamodb_config(*s).segments, 16);
  EXPECT_DOUBLE_EQ(ttla::dynamodb_config(*s).max_read_units_per_second, 200);
  EXPECT_DOUBLE_EQ(ttla::dynamodb_config(*s).max_read_units, 100000);
  EXPECT_TRUE(s->redact_keys);
  ASSERT_TRUE(ttla::dynamodb_config(*s).filter);
  EXPECT_EQ(ttla::dynamodb_config(*s).filter->expression, "#s <> :u");
  EXPECT_EQ(ttla::dynamodb_config(*s).filter->names.at("#s"), "status");
  EXPECT_EQ(ttla::dynamodb_config(*s).filter->values[":u"], nlohmann::json({{"S", "uploaded"}}));
  EXPECT_EQ(ttla::dynamodb_config(*s).filter->values[":n"], nlohmann::json({{"N", "5"}}));  // DynamoDB numbers are text
  EXPECT_EQ(ttla::dynamodb_config(*s).filter->values[":b"], nlohmann::json({{"BOOL", true}}));
  ASSERT_TRUE(ttla::dynamodb_config(*s).group_by);
  EXPECT_EQ(ttla::dynamodb_config(*s).group_by->attribute, "thread_id");
  EXPECT_EQ(ttla::dynamodb_config(*s).group_by->split, "#");
  // Per-target thresholds override one value and inherit the rest from the global block.
  EXPECT_EQ(s->thresholds.expired_backlog_warning, 5);
  EXPECT_EQ(s->thresholds.expired_backlog_critical, 10000);
  EXPECT_EQ(s->thresholds.history_runs, 96);

  const auto* u = find(c, "uploads");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->region, "eu-west-1");  // own value beats defaults
  EXPECT_EQ(ttla::s3_config(*u).bucket, "video-uploads");
  EXPECT_EQ(ttla::s3_config(*u).prefix, "uploads/");
  EXPECT_EQ(u->retention, 7 * 86400);
  EXPECT_EQ(ttla::s3_config(*u).multipart_max_age, 86400);
  EXPECT_EQ(ttla::s3_config(*u).noncurrent_retention, 86400);
  EXPECT_EQ(u->path_style, true);
  ASSERT_TRUE(ttla::s3_config(*u).group_by);
  EXPECT_EQ(ttla::s3_config(*u).group_by->delimiter, "/");
  EXPECT_EQ(ttla::s3_config(*u).group_by->depth, 2);
  ASSERT_TRUE(ttla::s3_config(*u).orphans);
  EXPECT_EQ(ttla::s3_config(*u).orphans->dynamodb_table, "UploadSessions");
  EXPECT_EQ(ttla::s3_config(*u).orphans->min_age, 3600);
  EXPECT_EQ(ttla::s3_config(*u).max_requests, 5000u);
  EXPECT_EQ(ttla::s3_config(*u).read_tags, 200u);
  EXPECT_EQ(u->thresholds.expired_backlog_warning, 100);

  const auto* m = find(c, "mocs");
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->region.empty());  // defaults apply only where the kind allows the key
  EXPECT_EQ(m->top_k, 5);
  EXPECT_EQ(ttla::postgres_config(*m).dsn, "host=db port=5432 dbname=app user=auditor password=none");  // ${X:-none}
  EXPECT_EQ(ttla::postgres_config(*m).where, "tenant_id <> 0 and note <> '${literal}'");              // $${ escape
  EXPECT_EQ(m->retention, 30 * 86400);
  EXPECT_EQ(ttla::postgres_config(*m).statement_timeout, 600);

  const auto* f = find(c, "images.v2");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(ttla::filesystem_config(*f).path, "/var/tmp/images");
  EXPECT_EQ(ttla::filesystem_config(*f).pattern, "*.jpg");
  EXPECT_EQ(f->retention, 7 * 86400);
}

TEST(Config, InterpolationUsesEnvironment) {
  setenv("TTLA_TEST_BUCKET", "from-env", 1);
  auto r = ttla::parse_config(
      "targets:\n  - {name: a, kind: s3, bucket: \"${TTLA_TEST_BUCKET}\", prefix: \"p/${TTLA_TEST_BUCKET}/\"}\n");
  ASSERT_TRUE(r.config);
  EXPECT_EQ(ttla::s3_config(r.config->targets[0]).bucket, "from-env");
  EXPECT_EQ(ttla::s3_config(r.config->targets[0]).prefix, "p/from-env/");
  unsetenv("TTLA_TEST_BUCKET");
  auto r2 = ttla::parse_config("targets:\n  - {name: a, kind: s3, bucket: \"${TTLA_TEST_BUCKET}\"}\n");
  ASSERT_FALSE(r2.config);
  ASSERT_EQ(r2.errors.size(), 1u);
  EXPECT_EQ(r2.errors[0].str(), "targets[0].bucket: environment variable TTLA_TEST_BUCKET is not set");
}

TEST(Config, DefaultsDoNotOverrideTargetValues) {
  auto r = ttla::parse_config(
      "defaults: {region: us-east-1, segments: 8}\n"
      "targets:\n"
      "  - {name: a, kind: dynamodb, table: A}\n"
      "  - {name: b, kind: dynamodb, table: B, region: ap-south-1, segments: 2}\n");
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->targets[0].region, "us-east-1");
  EXPECT_EQ(ttla::dynamodb_config(r.config->targets[0]).segments, 8);
  EXPECT_EQ(r.config->targets[1].region, "ap-south-1");
  EXPECT_EQ(ttla::dynamodb_config(r.config->targets[1]).segments, 2);
}

TEST(Config, KindFromDefaults) {
  auto r = ttla::parse_config(
      "defaults: {kind: dynamodb}\n"
      "targets:\n  - {name: a, table: A}\n  - {name: b, kind: filesystem, path: /tmp, retention: 1d}\n");
  ASSERT_TRUE(r.config) << r.errors[0].str();
  EXPECT_EQ(r.config->targets[0].kind, "dynamodb");
  EXPECT_EQ(r.config->targets[1].kind, "filesystem");
}

TEST(Config, DefaultErrorsReportedOnce) {
  // The bad default is applied to three targets but reported once, at its own path.
  auto errs = errors_of(
      "defaults: {region: [x]}\n"
      "targets:\n"
      "  - {name: a, kind: dynamodb, table: A}\n"
      "  - {name: b, kind: dynamodb, table: B}\n"
      "  - {name: c, kind: s3, bucket: c}\n");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0], "defaults.region: expected a string, got a list");
}

TEST(Config, AllErrorsAtOnce) {
  auto errs = errors_of(
      "targets:\n"
      "  - {name: a, kind: dynamodb, table: A, sample: 2}\n"
      "  - {name: b, kind: filesystem, path: /x, retention: seven}\n"
      "  - {name: a, kind: s3}\n");
  ASSERT_EQ(errs.size(), 4u);
  EXPECT_EQ(errs[0], "targets[0].sample: expected a number in (0, 1], got \"2\"");
  EXPECT_EQ(errs[1], "targets[1].retention: expected a duration like 7d, got \"seven\"");
  EXPECT_EQ(errs[2], "targets[2]: missing required key \"bucket\" (kind s3)");
  EXPECT_EQ(errs[3], "targets[2].name: duplicate target name \"a\" (also targets[0])");
}

TEST(Config, SyntaxErrorHasLineAndColumn) {
  auto errs = errors_of("targets:\n  - name: a\n    kind: dynamodb\n   table: x\n");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].rfind("yaml syntax error at line 4, column ", 0), 0u) << errs[0];
}

TEST(Config, MissingFile) {
  auto r = ttla::load_config("/nonexistent/ttl-auditor.yaml");
  ASSERT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].str(), "cannot read /nonexistent/ttl-auditor.yaml: No such file or directory");
}

TEST(Config, SampleAndSegmentBoundaries) {
  EXPECT_TRUE(errors_of("targets: [{name: a, kind: dynamodb, table: A, sample: 1, segments: 1}]").empty());
  EXPECT_TRUE(errors_of("targets: [{name: a, kind: dynamodb, table: A, sample: 0.000001, segments: 1000000}]").empty());
  EXPECT_EQ(errors_of("targets: [{name: a, kind: dynamodb, table: A, sample: 1.0000001}]").size(), 1u);
  EXPECT_EQ(errors_of("targets: [{name: a, kind: dynamodb, table: A, segments: 1000001}]").size(), 1u);
}

TEST(Config, PostgresOwnQueryReplacesDefaultTable) {
  auto r = ttla::parse_config(
      "defaults: {table: shared, timestamp_column: deleted_at}\n"
      "targets:\n"
      "  - {name: a, kind: postgres, dsn: x, query: \"select 1\"}\n"
      "  - {name: b, kind: postgres, dsn: x}\n");
  ASSERT_TRUE(r.config) << r.errors[0].str();
  EXPECT_TRUE(ttla::postgres_config(r.config->targets[0]).table.empty());
  EXPECT_EQ(ttla::postgres_config(r.config->targets[0]).query, "select 1");
  EXPECT_EQ(ttla::postgres_config(r.config->targets[1]).table, "shared");
  EXPECT_EQ(ttla::postgres_config(r.config->targets[1]).timestamp_column, "deleted_at");
}

TEST(Config, PostgresTimestampUnit) {
  auto r = ttla::parse_config(
      "targets:\n"
      "  - {name: a, kind: postgres, dsn: x, table: t, timestamp_column: c, retention: 1d, "
      "timestamp_unit: seconds}\n"
      "  - {name: b, kind: postgres, dsn: x, table: t, timestamp_column: c, retention: 1d, "
      "timestamp_unit: milliseconds}\n"
      "  - {name: c, kind: postgres, dsn: x, table: t, timestamp_column: c, retention: 1d}\n");
  ASSERT_TRUE(r.config) << r.errors[0].str();
  EXPECT_EQ(ttla::postgres_config(r.config->targets[0]).timestamp_unit, "seconds");
  EXPECT_EQ(ttla::postgres_config(r.config->targets[1]).timestamp_unit, "milliseconds");
  EXPECT_EQ(ttla::postgres_config(r.config->targets[2]).timestamp_unit, "");
  auto errs = errors_of(
      "targets: [{name: a, kind: postgres, dsn: x, table: t, timestamp_column: c, retention: 1d, "
      "timestamp_unit: ms}]");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0],
            "targets[0].timestamp_unit: expected seconds or milliseconds (integer epoch columns), "
            "got \"ms\"");
  EXPECT_EQ(errors_of("targets: [{name: a, kind: filesystem, path: /x, retention: 1d, "
                      "timestamp_unit: seconds}]")
                .size(),
            1u);
}

}  // namespace

namespace {

TEST(Config, DeletionRateKeys) {
  auto r = ttla::parse_config(
      "targets:\n"
      "  - {name: a, kind: dynamodb, table: A}\n"
      "  - {name: b, kind: dynamodb, table: B, cloudwatch: false, deletion_window: 6h,\n"
      "     cloudwatch_endpoint_url: \"http://127.0.0.1:5000\"}\n");
  ASSERT_TRUE(r.config) << r.errors[0].str();
  EXPECT_TRUE(ttla::dynamodb_config(r.config->targets[0]).cloudwatch);
  EXPECT_EQ(ttla::dynamodb_config(r.config->targets[0]).deletion_window, 86400);
  EXPECT_TRUE(r.config->targets[0].cloudwatch_endpoint_url.empty());
  EXPECT_FALSE(ttla::dynamodb_config(r.config->targets[1]).cloudwatch);
  EXPECT_EQ(ttla::dynamodb_config(r.config->targets[1]).deletion_window, 6 * 3600);
  EXPECT_EQ(r.config->targets[1].cloudwatch_endpoint_url, "http://127.0.0.1:5000");
}

}  // namespace

namespace {

TEST(Config, TablesDiscoveryForms) {
  auto r = ttla::parse_config(
      "targets:\n"
      "  - {name: all, kind: dynamodb, tables: all}\n"
      "  - {name: some, kind: dynamodb, tables: {include: [\"prod-*\"], exclude: [\"*-tmp\", x]}}\n"
      "  - {name: but, kind: dynamodb, tables: {exclude: [\"*-tmp\"]}}\n");
  ASSERT_TRUE(r.config) << r.errors[0].str();
  const auto& t = r.config->targets;
  ASSERT_TRUE(ttla::dynamodb_config(t[0]).tables);
  EXPECT_EQ(ttla::dynamodb_config(t[0]).tables->include, (std::vector<std::string>{"*"}));
  EXPECT_TRUE(ttla::dynamodb_config(t[0]).tables->exclude.empty());
  EXPECT_EQ(ttla::dynamodb_config(t[1]).tables->include, (std::vector<std::string>{"prod-*"}));
  EXPECT_EQ(ttla::dynamodb_config(t[1]).tables->exclude, (std::vector<std::string>{"*-tmp", "x"}));
  EXPECT_EQ(ttla::dynamodb_config(t[2]).tables->include, (std::vector<std::string>{"*"}));
  EXPECT_TRUE(ttla::dynamodb_config(t[0]).table.empty());
}

TEST(Config, TablesErrors) {
  auto r = ttla::parse_config(
      "targets:\n"
      "  - {name: a, kind: dynamodb, table: T, tables: all}\n"
      "  - {name: b, kind: dynamodb, tables: some}\n"
      "  - {name: c, kind: dynamodb, tables: {include: []}}\n"
      "  - {name: d, kind: dynamodb, tables: {inclde: [x]}}\n"
      "  - {name: e, kind: s3, bucket: b, tables: all}\n");
  std::vector<std::string> got;
  for (const auto& e : r.errors) got.push_back(e.str());
  EXPECT_EQ(got, (std::vector<std::string>{
                     "targets[0]: \"table\" and \"tables\" are mutually exclusive (kind dynamodb)",
                     "targets[1].tables: expected \"all\" or {include: [glob], exclude: [glob]}, got \"some\"",
                     "targets[2].tables.include: expected a non-empty list of table name globs",
                     "targets[3].tables.inclde: unknown key (did you mean \"include\"?)",
                     "targets[4].tables: key not allowed for kind s3"}));
}

}  // namespace
