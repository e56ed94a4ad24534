// The postgres source against a real PostgreSQL cluster (scripts/servers/postgres.sh): generated
// tables whose truth the test computes itself (NULLs, rows inside and past retention, several
// time zones, a timestamp-without-time-zone column), the query form, sampling, and read-only
// proof: the server's statement log shows nothing that writes, and a `where` that tries to
// write is refused by the server and reported as a failure.
#include <libpq-fe.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sources/postgres_kind.h"
#include "core/error.h"
#include "sources/postgres_source.h"
#include "support/require.h"

namespace ttla {
namespace {

constexpr int64_t kAsOf = 1'790'000'000;  // 2026-09-21
constexpr int64_t kDay = 86400;

const char* dsn() { return std::getenv("TTLA_PG_DSN"); }

class Db {
 public:
  Db() : conn_(PQconnectdb(dsn())) {
    if (PQstatus(conn_) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(conn_));
  }
  ~Db() { PQfinish(conn_); }
  void exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    auto st = PQresultStatus(r);
    std::string err = PQresultErrorMessage(r);
    PQclear(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw std::runtime_error(err + " in: " + sql);
  }
  std::string scalar(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    std::string v = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    return v;
  }

 private:
  PGconn* conn_;
};

struct Truth {
  uint64_t expired = 0, pending = 0, nulls = 0;
  std::vector<std::pair<double, std::string>> overdue;  // (ov, key)
  double quantile(double q) const {  // nearest rank, as percentile_disc
    std::vector<double> v;
    for (auto& [ov, k] : overdue) v.push_back(ov);
    std::sort(v.begin(), v.end());
    size_t idx = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[idx == 0 ? 0 : idx - 1];
  }
};

// A soft-delete table: id, deleted_at (timestamptz, some NULL), tenant_id. Returns the truth for
// retention 30d at kAsOf over rows with tenant_id <> 0.
Truth make_table(Db& db, const std::string& name, int rows, uint32_t seed) {
  db.exec("DROP TABLE IF EXISTS " + name);
  db.exec("CREATE TABLE " + name + " (id bigint PRIMARY KEY, deleted_at timestamptz, tenant_id int)");
  std::mt19937 rng(seed);
  Truth t;
  std::string values;
  const char* zones[] = {"+00:00", "+05:30", "-08:00", "+14:00"};
  for (int i = 0; i < rows; ++i) {
    int tenant = static_cast<int>(rng() % 10);
    bool null_ts = rng() % 10 == 0;
    int64_t ts = kAsOf - static_cast<int64_t>(rng() % (90 * kDay));
    const char* zone = zones[rng() % 4];
    if (!values.empty()) values += ",";
    if (null_ts) {
      values += "(" + std::to_string(i) + ",NULL," + std::to_string(tenant) + ")";
    } else {
      // Write the instant in some zone's local time: the truth depends on the instant only.
      int sign = zone[0] == '+' ? 1 : -1;
      int64_t off = sign * ((zone[1] - '0') * 36000 + (zone[2] - '0') * 3600 + (zone[4] - '0') * 600 + (zone[5] - '0') * 60);
      time_t local = static_cast<time_t>(ts + off);
      char buf[64];
      std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::gmtime(&local));
      values += "(" + std::to_string(i) + ",'" + buf + zone + "'," + std::to_string(tenant) + ")";
    }
    if (tenant == 0) continue;
    if (null_ts) {
      ++t.nulls;
      continue;
    }
    double ov = static_cast<double>(kAsOf - 30 * kDay - ts);
    if (ov >= 0) {
      ++t.expired;
      t.overdue.push_back({ov, std::to_string(i)});
    } else {
      ++t.pending;
    }
    if (values.size() > 100000) {
      db.exec("INSERT INTO " + name + " VALUES " + values);
      values.clear();
    }
  }
  if (!values.empty()) db.exec("INSERT INTO " + name + " VALUES " + values);
  db.exec("ANALYZE " + name);
  return t;
}

TargetConfig target_for(const std::string& table) {
  TargetConfig t;
  t.name = "mocs";
  t.kind = "postgres";
  postgres_config(t).dsn = dsn();
  postgres_config(t).table = table;
  postgres_config(t).timestamp_column = "deleted_at";
  postgres_config(t).key_column = "id";
  t.retention = 30 * kDay;
  postgres_config(t).where = "tenant_id <> 0";
  return t;
}

TargetReport audit(const TargetConfig& t, uint64_t seed = 1) {
  RunContext ctx;
  ctx.as_of = kAsOf;
  ctx.seed = seed;
  return make_postgres_source()->audit(t, ctx);
}

class PostgresAudit : public ::testing::Test {
 protected:
  void SetUp() override {
    if (dsn() == nullptr) {
      TTLA_SKIP_OR_FAIL("TTLA_PG_DSN not set: start PostgreSQL with scripts/servers/postgres.sh");
    }
  }
};

TEST_F(PostgresAudit, ExactCountsAgesAndQuantiles) {
  Db db;
  Truth truth = make_table(db, "moc_instructions", 5000, 11);
  auto r = audit(target_for("moc_instructions"));
  EXPECT_EQ(r.status, Status::kOk);
  EXPECT_EQ(r.stats.expired_count(), truth.expired);
  EXPECT_EQ(r.stats.class_count(ItemClass::kNotYetExpired), truth.pending);
  EXPECT_EQ(r.extra["postgres"]["null_timestamp"], truth.nulls);
  auto sorted = truth.overdue;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_DOUBLE_EQ(r.stats.newest_overdue_seconds(), sorted.front().first);
  EXPECT_DOUBLE_EQ(r.stats.oldest_overdue_seconds(), sorted.back().first);
  ASSERT_TRUE(r.exact_quantiles.has_value());
  EXPECT_DOUBLE_EQ((*r.exact_quantiles)[0], truth.quantile(0.5));
  EXPECT_DOUBLE_EQ((*r.exact_quantiles)[1], truth.quantile(0.9));
  EXPECT_DOUBLE_EQ((*r.exact_quantiles)[2], truth.quantile(0.99));
  // The sketch built from the pushed-down buckets agrees within 1%.
  EXPECT_NEAR(r.stats.sketch().quantile(0.9), truth.quantile(0.9), truth.quantile(0.9) * 0.01);
  // Histogram is exact: the +Inf bucket holds every expired row, 7d bucket the right share.
  auto cum = r.stats.histogram().cumulative();
  EXPECT_EQ(cum.back(), truth.expired);
  uint64_t within_7d = std::count_if(truth.overdue.begin(), truth.overdue.end(),
                                     [](auto& p) { return p.first <= 7 * kDay; });
  const auto& bounds = OverdueHistogram::bounds();
  size_t i7 = std::find(bounds.begin(), bounds.end(), 7.0 * kDay) - bounds.begin();
  ASSERT_LT(i7, bounds.size());
  EXPECT_EQ(cum[i7], within_7d);
  // The K oldest keys, oldest first.
  auto oldest = r.stats.oldest_items();
  ASSERT_EQ(oldest.size(), 10u);
  EXPECT_EQ(oldest[0].key, sorted.back().second);
  EXPECT_DOUBLE_EQ(oldest[0].overdue_seconds, sorted.back().first);
  EXPECT_EQ(r.stats.sample_items().size(), 10u);
}

TEST_F(PostgresAudit, TimestampWithoutTimeZoneIsReadAsUtc) {
  Db db;
  db.exec("DROP TABLE IF EXISTS naive_ts");
  db.exec("CREATE TABLE naive_ts (id int, expires timestamp)");
  db.exec("SET TimeZone = 'America/New_York'");  // a session zone that must not leak in
  // 2026-09-20 00:00:00 UTC is one day and 1h20m before kAsOf (2026-09-21 14:13:20 UTC).
  db.exec("INSERT INTO naive_ts VALUES (1, '2026-09-20 00:00:00'), (2, '2026-09-22 00:00:00'), (3, NULL)");
  auto t = target_for("naive_ts");
  postgres_config(t).timestamp_column = "expires";
  postgres_config(t).where.clear();
  t.retention = 0;
  auto r = audit(t);
  EXPECT_EQ(r.stats.expired_count(), 1u);
  EXPECT_EQ(r.stats.class_count(ItemClass::kNotYetExpired), 1u);
  EXPECT_DOUBLE_EQ(r.stats.oldest_overdue_seconds(), static_cast<double>(kAsOf - 1789862400));
}

TEST_F(PostgresAudit, QueryFormFindsOrphans) {
  Db db;
  db.exec("DROP TABLE IF EXISTS gallery_images; DROP TABLE IF EXISTS galleries");
  db.exec("CREATE TABLE galleries (id int PRIMARY KEY, deleted_at timestamptz)");
  db.exec("CREATE TABLE gallery_images (id int PRIMARY KEY, gallery_id int, created_at timestamptz)");
  db.exec("INSERT INTO galleries VALUES (1, NULL), (2, '2026-01-01Z'), (3, NULL)");
  // Images 10, 11 belong to deleted gallery 2; 12 to a gallery that never existed; 13, 14 live.
  db.exec("INSERT INTO gallery_images VALUES (10, 2, '2026-08-01Z'), (11, 2, '2026-09-20Z'), "
          "(12, 99, '2026-07-01Z'), (13, 1, '2026-01-01Z'), (14, 3, '2026-01-01Z')");
  TargetConfig t;
  t.name = "orphan_images";
  t.kind = "postgres";
  postgres_config(t).dsn = dsn();
  postgres_config(t).query =
      "SELECT i.id, i.created_at FROM gallery_images i LEFT JOIN galleries g "
      "ON g.id = i.gallery_id AND g.deleted_at IS NULL GROUP BY i.id, i.created_at HAVING count(g.id) = 0";
  t.retention = 7 * kDay;
  auto r = audit(t);
  EXPECT_EQ(r.stats.expired_count(), 2u);  // 10 and 12; 11 is orphaned but younger than 7d
  EXPECT_EQ(r.stats.class_count(ItemClass::kNotYetExpired), 1u);
  auto oldest = r.stats.oldest_items();
  ASSERT_EQ(oldest.size(), 2u);
  EXPECT_EQ(oldest[0].key, "12");
  EXPECT_EQ(oldest[1].key, "10");
}

TEST_F(PostgresAudit, SampleIntervalCoversTheTruth) {
  Db db;
  Truth truth = make_table(db, "moc_sampled", 40000, 5);
  int covered = 0;
  const int runs = 20;
  for (int seed = 1; seed <= runs; ++seed) {
    auto t = target_for("moc_sampled");
    postgres_config(t).sample = 0.2;
    auto r = audit(t, static_cast<uint64_t>(seed));
    ASSERT_TRUE(r.estimated);
    EXPECT_EQ(r.scan.mode, "sample");
    EXPECT_LT(r.scan.items_scanned, 40000u * 0.3);
    if (r.ci95[0] <= static_cast<double>(truth.expired) && static_cast<double>(truth.expired) <= r.ci95[1]) {
      ++covered;
    }
  }
  EXPECT_GE(covered, 16) << "95% intervals covered the truth in " << covered << "/" << runs << " runs";
}

TEST_F(PostgresAudit, NothingThatWritesReachesTheServer) {
  const char* log = std::getenv("TTLA_PG_LOG");
  if (log == nullptr) TTLA_SKIP_OR_FAIL("TTLA_PG_LOG not set");
  Db db;
  make_table(db, "moc_logged", 500, 3);
  auto t = target_for("moc_logged");
  postgres_config(t).dsn = std::string(dsn()) + " application_name=ttla-logcheck";
  // Only what this audit logged: the server's log may hold earlier runs of this test.
  std::streamoff start = 0;
  {
    std::ifstream before(log, std::ios::ate);
    if (before) start = before.tellg();
  }
  audit(t);
  std::ifstream in(log);
  in.seekg(start);
  std::string line;
  int statements = 0;
  const std::regex allowed(R"(^(BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY|SET LOCAL |SELECT |WITH |COMMIT))");
  // The one COPY is a query's rows sent to this client: never FROM (a write), never to a server
  // file or program.
  const std::regex copy_out(R"(^COPY \(SELECT [^;]*\) TO STDOUT \(FORMAT binary\)$)");
  int copies = 0;
  while (std::getline(in, line)) {
    if (line.find("app=ttla-logcheck") == std::string::npos) continue;
    auto pos = line.find("statement: ");
    auto exec = line.find("execute <unnamed>: ");
    std::string sql;
    if (pos != std::string::npos) sql = line.substr(pos + 11);
    else if (exec != std::string::npos) sql = line.substr(exec + 19);
    else continue;
    ++statements;
    if (sql.rfind("COPY", 0) == 0) {
      ++copies;
      EXPECT_TRUE(std::regex_search(sql, copy_out)) << "unexpected COPY: " << sql;
      for (const char* w : {"STDIN", "PROGRAM", "FROM '", "TO '"}) EXPECT_EQ(sql.find(w), std::string::npos) << sql;
      continue;
    }
    EXPECT_TRUE(std::regex_search(sql, allowed)) << "unexpected statement: " << sql;
    for (const char* w : {"INSERT", "UPDATE ", "DELETE", "CREATE", "DROP", "ALTER", "TRUNCATE", "COPY", "GRANT"}) {
      EXPECT_EQ(sql.find(w), std::string::npos) << sql;
    }
  }
  EXPECT_GE(statements, 6);
  EXPECT_EQ(copies, 1);
}

TEST_F(PostgresAudit, WhereThatTriesToWriteIsRefusedByTheServer) {
  Db db;
  make_table(db, "moc_guarded", 200, 9);
  db.exec("DROP SEQUENCE IF EXISTS guard_seq; CREATE SEQUENCE guard_seq");
  const std::string before = db.scalar("SELECT count(*) FROM moc_guarded");
  auto t = target_for("moc_guarded");
  postgres_config(t).where = "nextval('guard_seq') > 0";
  try {
    audit(t);
    FAIL() << "a write inside the audit transaction must fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDatabase);
    EXPECT_NE(std::string(e.what()).find("read-only transaction"), std::string::npos) << e.what();
  }
  postgres_config(t).where = "true; DELETE FROM moc_guarded";
  EXPECT_THROW(audit(t), Error);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM moc_guarded"), before);
  EXPECT_EQ(db.scalar("SELECT last_value FROM guard_seq"), "1");
  EXPECT_EQ(db.scalar("SELECT is_called FROM guard_seq"), "f");
}

TEST_F(PostgresAudit, QuotedIdentifiersAreNeverPasted) {
  Db db;
  db.exec("DROP TABLE IF EXISTS \"Odd Name\"");
  db.exec("CREATE TABLE \"Odd Name\" (\"key col\" int, \"when\" timestamptz)");
  db.exec("INSERT INTO \"Odd Name\" VALUES (1, '2020-01-01Z')");
  auto t = target_for("Odd Name");
  postgres_config(t).key_column = "key col";
  postgres_config(t).timestamp_column = "when";
  postgres_config(t).where.clear();
  auto r = audit(t);
  EXPECT_EQ(r.stats.expired_count(), 1u);
  postgres_config(t).table = "moc_instructions; DROP TABLE galleries";
  EXPECT_THROW(audit(t), Error);
}

TEST_F(PostgresAudit, UnreachableServerIsANetworkError) {
  auto t = target_for("x");
  postgres_config(t).dsn = "host=127.0.0.1 port=1 user=postgres dbname=postgres connect_timeout=2";
  try {
    audit(t);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNetwork);
  }
}

}  // namespace
}  // namespace ttla

namespace ttla {
namespace {

// Integer epoch columns: the same instants as a timestamptz table, stored as bigint seconds and
// bigint milliseconds (with sub-second parts), audited with timestamp_unit.
TEST_F(PostgresAudit, IntegerEpochColumnsWithTimestampUnit) {
  Db db;
  Truth truth = make_table(db, "epoch_src", 4000, 23);
  db.exec("DROP TABLE IF EXISTS epoch_ints");
  // Milliseconds: the second's value times 1000 plus 0..999 ms (0 for a row exactly on the
  // whole-second cut-off), so no row changes class.
  db.exec("CREATE TABLE epoch_ints AS SELECT id, tenant_id, "
          "EXTRACT(EPOCH FROM deleted_at)::bigint AS ts_s, "
          "EXTRACT(EPOCH FROM deleted_at)::bigint * 1000 + (id % 1000) * "
          "(EXTRACT(EPOCH FROM deleted_at)::bigint <> " + std::to_string(kAsOf - 30 * kDay) +
          ")::int AS ts_ms FROM epoch_src");
  db.exec("ANALYZE epoch_ints");
  auto sorted = truth.overdue;
  std::sort(sorted.begin(), sorted.end());
  for (const char* unit : {"seconds", "milliseconds"}) {
    SCOPED_TRACE(unit);
    auto t = target_for("epoch_ints");
    postgres_config(t).timestamp_column = std::string(unit) == "seconds" ? "ts_s" : "ts_ms";
    postgres_config(t).timestamp_unit = unit;
    auto r = audit(t);
    ASSERT_EQ(r.status, Status::kOk) << r.error.value_or("");
    EXPECT_EQ(r.stats.expired_count(), truth.expired);
    EXPECT_EQ(r.stats.class_count(ItemClass::kNotYetExpired), truth.pending);
    EXPECT_EQ(r.extra["postgres"]["null_timestamp"], truth.nulls);
    ASSERT_TRUE(r.exact_quantiles.has_value());
    // Milliseconds make each value up to 0.999 s younger than its second.
    const double tol = std::string(unit) == "seconds" ? 0.0 : 1.0;
    EXPECT_NEAR((*r.exact_quantiles)[0], truth.quantile(0.5), tol);
    EXPECT_NEAR((*r.exact_quantiles)[1], truth.quantile(0.9), tol);
    EXPECT_NEAR((*r.exact_quantiles)[2], truth.quantile(0.99), tol);
    EXPECT_NEAR(r.stats.oldest_overdue_seconds(), sorted.back().first, tol);
    auto oldest = r.stats.oldest_items();
    ASSERT_FALSE(oldest.empty());
    EXPECT_EQ(oldest[0].key, sorted.back().second);
    EXPECT_EQ(r.stats.sample_items().size(), 10u);
  }
  // Without the unit, an integer column is an error the server names, not a wrong answer.
  auto t = target_for("epoch_ints");
  postgres_config(t).timestamp_column = "ts_s";
  EXPECT_THROW(audit(t), Error);
}

// EXPLAIN (FORMAT JSON) of one statement the source sends (`counts` or `stream`).
nlohmann::json explain(const TargetConfig& t, std::string PostgresQueries::*which) {
  PGconn* conn = PQconnectdb(dsn());
  const PostgresQueries q = postgres_queries(conn, t, kAsOf - *t.retention, 1);
  const std::string sql = "EXPLAIN (FORMAT JSON) " + q.*which;
  PGresult* r = PQexec(conn, sql.c_str());
  std::string text = PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : "";
  std::string err = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(conn);
  if (text.empty()) throw std::runtime_error("EXPLAIN failed: " + err);
  return nlohmann::json::parse(text)[0]["Plan"];
}

void collect(const nlohmann::json& node, std::vector<const nlohmann::json*>& out) {
  out.push_back(&node);
  if (node.contains("Plans")) {
    for (const auto& c : node["Plans"]) collect(c, out);
  }
}

std::vector<const nlohmann::json*> nodes_of(const nlohmann::json& root) {
  std::vector<const nlohmann::json*> all;
  collect(root, all);
  return all;
}

// The expired rows are read once, by the streamed statement: without an index one filtered scan
// and a sort; with a b-tree index on the timestamp an index range scan on `deleted_at <= ...`
// (no sequential scan) and the same sort. The count is one more scan of the table, the only
// other read.
TEST_F(PostgresAudit, PlanReadsTheExpiredRowsOnceByIndexRange) {
  Db db;
  db.exec("DROP TABLE IF EXISTS plan_rows");
  db.exec("CREATE TABLE plan_rows (id bigint PRIMARY KEY, deleted_at timestamptz, tenant_id int, body text)");
  // 20000 rows, 2% of them past retention (30 days) at kAsOf.
  db.exec("INSERT INTO plan_rows SELECT g, to_timestamp(" + std::to_string(kAsOf) +
          " - CASE WHEN g % 50 = 0 THEN 31 * 86400 + g ELSE g % (29 * 86400) END), g % 7, "
          "repeat('x', 60) FROM generate_series(1, 20000) g");
  db.exec("ANALYZE plan_rows");
  auto t = target_for("plan_rows");

  auto scans_of_table = [](const nlohmann::json& n) {
    std::vector<const nlohmann::json*> out;
    for (const auto* x : nodes_of(n)) {
      if (x->value("Relation Name", "") == "plan_rows") out.push_back(x);
    }
    return out;
  };
  auto has_node = [](const nlohmann::json& n, const std::string& type) {
    for (const auto* x : nodes_of(n)) {
      if (x->value("Node Type", "") == type) return true;
    }
    return false;
  };

  {
    SCOPED_TRACE("no index");
    nlohmann::json plan = explain(t, &PostgresQueries::stream);
    auto scans = scans_of_table(plan);
    ASSERT_EQ(scans.size(), 1u) << plan.dump(1);
    EXPECT_EQ(scans[0]->value("Node Type", ""), "Seq Scan");
    EXPECT_NE(scans[0]->value("Filter", "").find("deleted_at <="), std::string::npos) << plan.dump(1);
    EXPECT_TRUE(has_node(plan, "Sort")) << plan.dump(1);
    EXPECT_EQ(scans_of_table(explain(t, &PostgresQueries::counts)).size(), 1u);
  }

  db.exec("CREATE INDEX plan_rows_deleted_at ON plan_rows (deleted_at)");
  db.exec("ANALYZE plan_rows");
  {
    SCOPED_TRACE("b-tree index on deleted_at");
    nlohmann::json plan = explain(t, &PostgresQueries::stream);
    bool range = false;
    for (const auto* n : nodes_of(plan)) {
      const std::string type = n->value("Node Type", "");
      EXPECT_NE(type, "Seq Scan") << plan.dump(1);
      if ((type == "Index Scan" || type == "Index Only Scan" || type == "Bitmap Index Scan") &&
          n->value("Index Name", "") == "plan_rows_deleted_at" &&
          n->value("Index Cond", "").find("deleted_at <=") != std::string::npos) {
        range = true;
      }
    }
    EXPECT_TRUE(range) << "no index range scan on deleted_at:\n" << plan.dump(1);
    EXPECT_TRUE(has_node(plan, "Sort")) << plan.dump(1);
    EXPECT_EQ(scans_of_table(plan).size(), 1u) << plan.dump(1);
  }
  // And the answer is the same as the truth by plain SQL.
  auto r = audit(t);
  ASSERT_EQ(r.status, Status::kOk) << r.error.value_or("");
  EXPECT_EQ(std::to_string(r.stats.expired_count()),
            db.scalar("SELECT count(*) FROM plan_rows WHERE tenant_id <> 0 AND deleted_at <= to_timestamp(" +
                      std::to_string(kAsOf - 30 * kDay) + ")"));
}

// Counting and reading happen in one snapshot, so they agree unless the operator's filter is
// volatile. Then the target says so and is partial, with no quantiles it cannot vouch for,
// instead of reporting numbers from two different sets of rows.
TEST_F(PostgresAudit, VolatileFilterMakesTheTargetPartialWithTheReason) {
  Db db;
  make_table(db, "moc_volatile", 4000, 11);
  auto t = target_for("moc_volatile");
  postgres_config(t).where = "random() < 0.5";
  auto r = audit(t);
  EXPECT_EQ(r.status, Status::kPartial);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_NE(r.error->find("volatile"), std::string::npos) << *r.error;
  EXPECT_FALSE(r.exact_quantiles.has_value());
}

}  // namespace
}  // namespace ttla
